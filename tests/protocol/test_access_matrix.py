"""Access control over every endpoint, and every SPARQL trick to reach another project's data.

World: project ``A`` (private, the attacker's own), project ``B`` (private, holds the secret
marker in its default graph, a named graph and its catalogue description) and project ``P``
(public-read). Callers: anonymous, reader/writer/admin of A, reader/writer/admin of B, '*' admin.

Invariants checked:
* the role matrix (2xx / 401 / 403 / 404) of every REST, SPARQL and Graph Store endpoint;
* B's secret never appears in a response to a caller without rights on B;
* "exists but forbidden" and "does not exist" give the same status and error code;
* B's data is unchanged after every attack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from tests.conftest import LiveServer, auth
from tests.engines import STORES, live_server_on

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SECRET = "SECRET-B-c0ffee"
PUBLIC = "PUBLIC-P-beef"
OWN = "OWN-A-cafe"


@dataclass
class World:
    srv: LiveServer
    A: str
    B: str
    P: str
    tokens: dict[str, str | None]  # caller name -> secret

    def g(self, project: str, name: str) -> str:
        return self.srv.graph_iri(project, name)

    def client(self, who: str) -> httpx.Client:
        return self.srv.client(self.tokens[who])

    def b_dump(self) -> Graph:
        return _dump(self, self.B)


def _dump(world: World, project: str) -> Graph:
    """A project's quads as one graph of (s, p, o) plus a graph marker (no blank nodes in this world)."""
    from io import BytesIO

    from rdflib import Dataset

    buf = BytesIO()
    world.srv.twin.store.dump(buf, format="nquads", graphs=world.srv.twin.project_graphs(project))
    ds = Dataset()
    ds.parse(data=buf.getvalue(), format="nquads")
    g = Graph()
    for s_, p_, o_, c_ in ds.quads((None, None, None, None)):
        g.add((s_, p_, o_))
        g.add((s_, URIRef("urn:in-graph"), URIRef(str(c_))))
    return g


def _setup(srv: LiveServer) -> World:
    A = srv.create_project("a")
    B = srv.create_project("b", description=f"confidential {SECRET}")
    P = srv.create_project("pub", public=True)
    srv.put_graph(A, "default", f'<urn:a:s> <urn:a:p> "{OWN}" .')
    srv.put_graph(A, "extra", f'<urn:a:s2> <urn:a:p> "{OWN}-2" .')
    srv.put_graph(B, "default", f'<urn:b:s> <urn:b:p> "{SECRET}" .')
    srv.put_graph(B, "hidden", f'<urn:b:s2> <urn:b:p> "{SECRET}-named" . <urn:b:s2> <urn:b:iri> <urn:{SECRET}> .')
    srv.put_graph(P, "default", f'<urn:p:s> <urn:p:p> "{PUBLIC}" .')
    tokens: dict[str, str | None] = {"anon": None, "star": srv.admin}
    for proj, key in ((A, "A"), (B, "B")):
        for role in ("reader", "writer", "admin"):
            tokens[f"{key}-{role}"] = srv.token(proj, role)
    return World(srv, A, B, P, tokens)


@pytest.fixture(scope="module", params=STORES)
def world(request: pytest.FixtureRequest) -> World:
    """The matrix on a kg-twin server over each store: embedded, oxigraph serve, Virtuoso."""
    return _setup(live_server_on(request, request.param))


@pytest.fixture
def b_unchanged(world: World) -> Iterator[None]:
    before = world.b_dump()
    yield
    assert isomorphic(before, world.b_dump()), "project B's data changed"


ROLE_RANK = {"reader": 1, "writer": 2, "admin": 3}


def rank(world: World, who: str, project: str) -> int:
    if who == "star":
        return 3
    if who == "anon":
        return 1 if project == world.P else 0
    key, role = who.split("-")
    proj = {"A": world.A, "B": world.B}[key]
    if proj == project:
        return ROLE_RANK[role]
    return 1 if project == world.P else 0


def expected_status(world: World, who: str, project: str, need: str) -> int | None:
    """None = allowed; else the error status the caller must get."""
    r = rank(world, who, project)
    if r >= ROLE_RANK[need]:
        return None
    if who == "anon":
        return 401
    return 404 if r == 0 else 403


def no_secret(r: httpx.Response) -> None:
    assert SECRET not in r.text, f"LEAK in {r.request.method} {r.request.url}: {r.text[:500]}"


def err_code(r: httpx.Response) -> str:
    """Stable error code of a response: JSON 'code' (REST) or the first word of a plain-text SPARQL error."""
    ct = r.headers.get("content-type", "")
    if ct.startswith("application/json"):
        return r.json()["code"]
    return r.text.split(":", 1)[0].strip()


def check_rest_error(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    body = r.json()
    assert body["ok"] is False and body["status"] == status and isinstance(body["code"], str) and body["error"]
    assert isinstance(body["errors"], list)
    if status == 401:
        assert r.headers.get("www-authenticate", "").lower().startswith("bearer")


CALLERS = ["anon", "A-reader", "A-writer", "A-admin", "B-reader", "B-writer", "B-admin", "star"]

# ------------------------------------------------------------------ role matrix


def _ops(world: World, project: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(name, method, path, kwargs) of every project endpoint, with the role it needs (in name)."""
    g = world.g(project, "default")
    ttl = {"content": b"<urn:x> <urn:y> <urn:z> .", "headers": {"Content-Type": "application/n-triples"}}
    return [
        ("reader", "GET", f"/projects/{project}", {}),
        ("reader", "GET", f"/projects/{project}/sparql", {"params": {"query": "SELECT * { ?s ?p ?o }"}}),
        ("reader", "POST", f"/projects/{project}/sparql", {"content": b"ASK { ?s ?p ?o }", "headers": {"Content-Type": "application/sparql-query"}}),
        ("reader", "GET", f"/projects/{project}/graphs", {"params": {"graph": g}}),
        ("reader", "HEAD", f"/projects/{project}/graphs", {"params": {"graph": g}}),
        ("reader", "GET", f"/projects/{project}/graphs", {}),
        ("reader", "GET", f"/graph/{project}/default", {}),
        ("writer", "POST", f"/projects/{project}/sparql", {"content": b"INSERT DATA { <urn:m> <urn:m> <urn:m> }", "headers": {"Content-Type": "application/sparql-update"}}),
        ("writer", "POST", f"/projects/{project}/graphs", {"params": {"graph": world.g(project, "matrix")}, **ttl}),
        ("writer", "PUT", f"/graph/{project}/matrix", ttl),
        ("writer", "DELETE", f"/graph/{project}/matrix", {}),
        ("admin", "GET", f"/projects/{project}/tokens", {}),
        ("admin", "POST", f"/projects/{project}/tokens", {"json": {"role": "reader"}}),
        ("admin", "PATCH", f"/projects/{project}", {"json": {"title": "renamed"}}),
    ]


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize("target", ["A", "B", "P"])
def test_role_matrix(world: World, who: str, target: str) -> None:
    project = {"A": world.A, "B": world.B, "P": world.P}[target]
    with world.client(who) as c:
        for need, method, path, kw in _ops(world, project):
            # DELETE needs the graph to exist; make sure it does (as the '*' admin)
            if method == "DELETE":
                world.srv.put_graph(project, "matrix", "<urn:x> <urn:y> <urn:z> .", "application/n-triples")
            r = c.request(method, path, **kw)
            want = expected_status(world, who, project, need)
            if rank(world, who, world.B) == 0:
                no_secret(r)
            if want is None:
                assert r.status_code < 300, f"{who} {method} {path}: {r.status_code} {r.text[:300]}"
            elif path.endswith("/sparql"):
                assert r.status_code == want, f"{who} {method} {path}: {r.status_code} {r.text[:300]}"
            elif method == "HEAD":
                assert r.status_code == want
            else:
                check_rest_error(r, want)
    # clean up what writers added
    world.srv.twin.store.update(f"DELETE DATA {{ GRAPH <{world.g(project, 'default')}> {{ <urn:m> <urn:m> <urn:m> }} }}")


def test_project_create_delete_needs_star_admin(world: World) -> None:
    srv = world.srv
    for who in CALLERS:
        with world.client(who) as c:
            r = c.post("/projects", json={"id": f"made-by-{who.lower().replace('-', '')}"})
            if who == "star":
                assert r.status_code == 201
            else:
                check_rest_error(r, 401 if who == "anon" else 403)
    victim = srv.create_project("victim")
    admin = srv.token(victim, "admin")
    for who in CALLERS[:-1]:
        with world.client(who) as c:
            r = c.delete(f"/projects/{victim}")
            check_rest_error(r, 401 if who == "anon" else 404)
    with srv.client(admin) as c:
        assert c.delete(f"/projects/{victim}").status_code == 204
        # its tokens are revoked with it
        check_rest_error(c.get(f"/projects/{victim}"), 401)


def test_project_list_shows_only_readable(world: World) -> None:
    for who in CALLERS:
        with world.client(who) as c:
            r = c.get("/projects")
            assert r.status_code == 200
            ids = {p["id"] for p in r.json()["projects"]}
            for proj in (world.A, world.B, world.P):
                assert (proj in ids) == (rank(world, who, proj) > 0), (who, proj, ids)
            if rank(world, who, world.B) == 0:
                no_secret(r)


def test_token_revocation_and_bad_tokens(world: World) -> None:
    srv = world.srv
    tok = srv.token(world.A, "reader")
    tid = tok.split("_")[1]
    with srv.client(tok) as c:
        assert c.get(f"/projects/{world.A}").status_code == 200
    # a B admin cannot revoke an A token (the id is not in B)
    with world.client("B-admin") as c:
        check_rest_error(c.delete(f"/projects/{world.B}/tokens/{tid}"), 404)
    with world.client("A-admin") as c:
        assert c.delete(f"/projects/{world.A}/tokens/{tid}").status_code == 204
        listed = {t["id"]: t for t in c.get(f"/projects/{world.A}/tokens").json()["tokens"]}
        assert listed[tid]["revoked"] is True
        assert all("hash" not in t and "secret" not in t for t in listed.values())
    with srv.client(tok) as c:
        check_rest_error(c.get(f"/projects/{world.A}"), 401)
        r = c.get(f"/projects/{world.A}/sparql", params={"query": "ASK {}"})
        assert r.status_code == 401 and r.headers["content-type"].startswith("text/plain")
    for bad in ("Bearer nonsense", "Basic dXNlcjpwYXNz", f"Bearer {tok}x", "Bearer", "kgt_x_y"):
        r = httpx.get(f"{srv.url}/projects", headers={"Authorization": bad})
        check_rest_error(r, 401)


def test_token_created_over_rest_works_and_is_scoped(world: World) -> None:
    with world.client("A-admin") as c:
        r = c.post(f"/projects/{world.A}/tokens", json={"role": "writer", "label": "ci"})
        assert r.status_code == 201
        secret = r.json()["token"]
        check_rest_error(c.post(f"/projects/{world.A}/tokens", json={"role": "overlord"}), 400)
    with world.srv.client(secret) as c:
        assert c.post(f"/projects/{world.A}/sparql", content=b"INSERT DATA { <urn:t> <urn:t> <urn:t> }", headers={"Content-Type": "application/sparql-update"}).status_code == 204
        check_rest_error(c.get(f"/projects/{world.B}"), 404)
        check_rest_error(c.post(f"/projects/{world.A}/tokens", json={"role": "admin"}), 403)


# ------------------------------------------------------------------ indistinguishable answers


@pytest.mark.parametrize("who", ["anon", "A-reader", "A-writer"])
def test_forbidden_and_missing_look_the_same(world: World, who: str) -> None:
    B = world.B
    missing = "no-such-project"
    pairs = [
        (("GET", f"/projects/{B}"), ("GET", f"/projects/{missing}")),
        (("GET", f"/projects/{B}/sparql?query=ASK%7B%7D"), ("GET", f"/projects/{missing}/sparql?query=ASK%7B%7D")),
        (("GET", f"/projects/{B}/graphs?graph={world.g(B, 'hidden')}"), ("GET", f"/projects/{missing}/graphs?graph={world.g(missing, 'x')}")),
        (("GET", f"/projects/{B}/graphs?graph={world.g(B, 'nothing')}"), ("GET", f"/projects/{missing}/graphs?graph={world.g(missing, 'x')}")),
        (("GET", f"/graph/{B}/hidden"), ("GET", f"/graph/{missing}/hidden")),
        (("HEAD", f"/graph/{B}/hidden"), ("HEAD", f"/graph/{missing}/hidden")),
        (("DELETE", f"/graph/{B}/hidden"), ("DELETE", f"/graph/{missing}/hidden")),
        (("PUT", f"/graph/{B}/hidden"), ("PUT", f"/graph/{missing}/hidden")),
        (("GET", f"/projects/{B}/tokens"), ("GET", f"/projects/{missing}/tokens")),
        (("PATCH", f"/projects/{B}"), ("PATCH", f"/projects/{missing}")),
        (("DELETE", f"/projects/{B}"), ("DELETE", f"/projects/{missing}")),
    ]
    with world.client(who) as c:
        for (m1, p1), (m2, p2) in pairs:
            kw: dict[str, Any] = {}
            if m1 in ("PUT", "PATCH"):
                kw = {"content": b"<urn:x> <urn:y> <urn:z> .", "headers": {"Content-Type": "application/n-triples"}} if m1 == "PUT" else {"json": {"title": "x"}}
            r1, r2 = c.request(m1, p1, **kw), c.request(m2, p2, **kw)
            no_secret(r1)
            assert r1.status_code == r2.status_code, (who, p1, r1.status_code, r2.status_code)
            assert r1.status_code == (401 if who == "anon" else 404)
            if m1 != "HEAD":
                assert err_code(r1) == err_code(r2), (p1, r1.text, r2.text)


@pytest.mark.parametrize("endpoint", ["A", "fed"])
def test_foreign_graph_in_dataset_same_as_missing(world: World, endpoint: str) -> None:
    path = f"/projects/{world.A}/sparql" if endpoint == "A" else "/sparql"
    real, fake = world.g(world.B, "hidden"), world.g("no-such-project", "hidden")
    fake_in_b = world.g(world.B, "never-existed")
    with world.client("A-reader") as c:
        answers = []
        for g in (real, fake, fake_in_b):
            for params in ({"default-graph-uri": g}, {"named-graph-uri": g}):
                r = c.get(path, params={"query": "SELECT * { ?s ?p ?o }", **params})
                no_secret(r)
                answers.append((r.status_code, err_code(r)))
            r = c.get(path, params={"query": f"SELECT * FROM <{g}> {{ ?s ?p ?o }}"})
            no_secret(r)
            answers.append((r.status_code, err_code(r)))
        if endpoint == "fed":
            # the federated dataset names graphs by their stored names: B's are not readable
            assert set(answers) == {(403, "GRAPH_NOT_ALLOWED")}, answers
        else:
            # a project is a dataset: B's graph IRIs name graphs of A (which A does not have)
            assert {a[0] for a in answers} == {200}, answers
            assert all(not r for r in _bindings_of(c, path, real)), "B's data must not be visible from A"


def _bindings_of(c: Any, path: str, g: str) -> list[Any]:
    out = []
    for params in ({"default-graph-uri": g}, {"named-graph-uri": g}):
        r = c.get(path, params={"query": "SELECT * { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }", **params}, headers={"Accept": "application/sparql-results+json"})
        out.append(r.json()["results"]["bindings"])
    return out


# ------------------------------------------------------------------ SPARQL query tricks

TRICK_QUERIES = [
    "SELECT * {{ ?s ?p ?o }}",
    "SELECT * {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "SELECT * {{ GRAPH <{Bh}> {{ ?s ?p ?o }} }}",
    "SELECT * {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g = <{Bh}>) }}",
    "DESCRIBE <urn:b:s2>",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "ASK {{ GRAPH ?g {{ ?s ?p \"{secret}-named\" }} }}",
    "SELECT ?g (COUNT(*) AS ?n) {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g",
    "SELECT * {{ GRAPH <{system}> {{ ?s ?p ?o }} }}",
    "SELECT * {{ {{ SELECT * {{ GRAPH ?g {{ ?s ?p ?o }} }} }} }}",
    "SELECT * {{ ?s ?p ?o FILTER(CONTAINS(STR(?o), \"SECRET\")) }}",
]
# queries that must be refused (dataset/federation outside the caller's projects)
REFUSED_QUERIES = [
    ("SELECT * FROM <{Bd}> {{ ?s ?p ?o }}", "GRAPH_NOT_ALLOWED"),
    ("SELECT * FROM NAMED <{Bh}> {{ GRAPH ?g {{ ?s ?p ?o }} }}", "GRAPH_NOT_ALLOWED"),
    ("select * from <{Bd}> where {{ ?s ?p ?o }}", "GRAPH_NOT_ALLOWED"),
    ("SELECT * FROM # a comment\n <{Bd}> {{ ?s ?p ?o }}", "GRAPH_NOT_ALLOWED"),
    ("SELECT * \\u0046ROM <{Bd}> {{ ?s ?p ?o }}", "GRAPH_NOT_ALLOWED|SPARQL_SYNTAX"),  # the engine rejects escaped keywords
    ("SELECT * FROM <{Bd_escaped}> {{ ?s ?p ?o }}", "GRAPH_NOT_ALLOWED"),
    ("PREFIX b: <{Bprefix}> SELECT * FROM b:hidden {{ ?s ?p ?o }}", "GRAPH_NOT_ALLOWED"),
    ("BASE <{Bprefix}> SELECT * FROM <hidden> {{ ?s ?p ?o }}", "GRAPH_NOT_ALLOWED"),
    ("BASE <{Aprefix}> SELECT * FROM <../{B}/hidden> {{ ?s ?p ?o }}", "GRAPH_NOT_ALLOWED"),
    ("SELECT * FROM <{system}> {{ ?s ?p ?o }}", "GRAPH_NOT_ALLOWED"),
    ("SELECT * {{ SERVICE <{url}/projects/{B}/sparql> {{ ?s ?p ?o }} }}", "SERVICE_NOT_ALLOWED"),
    ("SELECT * {{ SERVICE SILENT <{url}/sparql> {{ ?s ?p ?o }} }}", "SERVICE_NOT_ALLOWED"),
    ("SELECT * {{ \\u0053ERVICE <{url}/sparql> {{ ?s ?p ?o }} }}", "SERVICE_NOT_ALLOWED"),
    ("SELECT * {{ \\U00000053ervice <{url}/sparql> {{ ?s ?p ?o }} }}", "SERVICE_NOT_ALLOWED"),
    ("PREFIX s: <{url}/> SELECT * {{ SERVICE s:sparql {{ ?s ?p ?o }} }}", "SERVICE_NOT_ALLOWED"),
    ("SELECT * {{ BIND(<{url}/sparql> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}", "SERVICE_VARIABLE"),
    ("SELECT * {{ ?s ?p \"}}\" . SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}", "SERVICE_NOT_ALLOWED"),
    ("SELECT * # SERVICE hidden? no: the next line is real\n{{ SERVICE <http://example.org/sparql> {{ ?s ?p ?o }} }}", "SERVICE_NOT_ALLOWED"),
]
# queries where keywords only hide in comments/strings: they run (and leak nothing)
HARMLESS_QUERIES = [
    'SELECT * {{ ?s ?p ?o FILTER(?o != "SERVICE <{url}/sparql> {{ }}") }}',
    "SELECT * {{ ?s ?p ?o }} # FROM <{Bd}> SERVICE <{url}/sparql>",
    "SELECT * {{ ?s ?p ?o FILTER(?o != '''FROM <{Bd}>''') }}",
    "SELECT * {{ ?s <urn:service> ?o }}",
]


def _fmt(world: World, q: str) -> str:
    srv = world.srv
    Bd = world.g(world.B, "default")
    return q.format(
        Bd=Bd,
        Bh=world.g(world.B, "hidden"),
        Bd_escaped=Bd.replace("graph", "gr\\u0061ph"),
        Bprefix=srv.twin.naming.project_graph_prefix(world.B),
        Aprefix=srv.twin.naming.project_graph_prefix(world.A) + "x",
        B=world.B,
        system=srv.twin.naming.system_graph,
        url=srv.url,
        secret=SECRET,
    )


@pytest.mark.parametrize("who", ["anon", "A-reader", "A-writer", "A-admin"])
def test_query_tricks_leak_nothing(world: World, who: str) -> None:
    endpoints = ["/sparql"] + ([f"/projects/{world.A}/sparql"] if who != "anon" else [f"/projects/{world.P}/sparql"])
    with world.client(who) as c:
        for ep in endpoints:
            for q in TRICK_QUERIES:
                text = _fmt(world, q)
                for accept in ("application/sparql-results+json, text/turtle;q=0.5", "text/csv, application/n-triples;q=0.5"):
                    r = c.post(ep, content=text.encode(), headers={"Content-Type": "application/sparql-query", "Accept": accept})
                    assert r.status_code == 200, (ep, text, r.text)
                    no_secret(r)
                    assert "urn:b:" not in r.text
            for q, code in REFUSED_QUERIES:
                text = _fmt(world, q)
                r = c.post(ep, data={"query": text})
                no_secret(r)
                if ep != "/sparql" and code.startswith("GRAPH_NOT_ALLOWED"):
                    # on a project endpoint any graph IRI names a graph of that project: B's data stays invisible
                    assert r.status_code in (200, 400), (ep, text, r.status_code, r.text)
                    assert "urn:b:" not in r.text
                    continue
                assert r.status_code in (400, 403) and err_code(r) in code.split("|"), (ep, text, r.status_code, r.text)
                assert (r.status_code == 400) == (err_code(r) == "SPARQL_SYNTAX")
            for q in HARMLESS_QUERIES:
                r = c.get(ep, params={"query": _fmt(world, q)})
                assert r.status_code == 200, (q, r.text)
                no_secret(r)


def test_own_data_is_visible(world: World) -> None:
    """The tricks above must not pass only because nothing is ever returned."""
    with world.client("A-reader") as c:
        r = c.get(f"/projects/{world.A}/sparql", params={"query": "SELECT ?g ?o { GRAPH ?g { ?s ?p ?o } }"})
        assert OWN in r.text and world.g(world.A, "extra") in r.text
        r = c.get("/sparql", params={"query": "SELECT ?o { ?s ?p ?o }"})
        assert OWN in r.text and PUBLIC in r.text
        r = c.get(f"/projects/{world.A}/sparql", params={"query": f"SELECT * FROM <{world.g(world.A, 'extra')}> {{ ?s ?p ?o }}"})
        assert f"{OWN}-2" in r.text and f'"{OWN}"' not in r.text
    with world.client("B-reader") as c:
        r = c.get("/sparql", params={"query": "SELECT ?o { ?s ?p ?o }"})
        assert SECRET in r.text and OWN not in r.text


# ------------------------------------------------------------------ update tricks

REFUSED_UPDATES = [
    "INSERT DATA {{ GRAPH <{Bd}> {{ <urn:x> <urn:y> \"pwned\" }} }}",
    "INSERT DATA {{ GRAPH <{Ad}> {{ <urn:x> <urn:y> 1 }} GRAPH <{Bh}> {{ <urn:x> <urn:y> \"pwned\" }} }}",
    ("INSERT DATA {{ \\u0047RAPH <{Bh}> {{ <urn:x> <urn:y> \"pwned\" }} }}", (400, 403)),  # the engine rejects escaped keywords
    "PREFIX b: <{Bprefix}> INSERT DATA {{ GRAPH b:hidden {{ <urn:x> <urn:y> \"pwned\" }} }}",
    "BASE <{Aprefix}> INSERT DATA {{ GRAPH <../{B}/hidden> {{ <urn:x> <urn:y> \"pwned\" }} }}",
    "INSERT DATA {{ GRAPH <{system}> {{ <{Biri}> <https://w3id.org/kg-twin/ontology#publicRead> true }} }}",
    "DELETE DATA {{ GRAPH <{Bd}> {{ <urn:b:s> <urn:b:p> \"{secret}\" }} }}",
    "WITH <{Bd}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
    "WITH <{Bd}> INSERT {{ <urn:x> <urn:y> \"pwned\" }} WHERE {{ }}",
    "INSERT {{ GRAPH <{Ax}> {{ ?s ?p ?o }} }} USING <{Bd}> WHERE {{ ?s ?p ?o }}",
    "INSERT {{ GRAPH <{Ax}> {{ ?s ?p ?o }} }} USING NAMED <{Bh}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "INSERT {{ GRAPH <{Ax}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{Bh}> {{ ?s ?p ?o }} }}",
    "INSERT {{ GRAPH ?g {{ <urn:x> <urn:y> \"pwned\" }} }} WHERE {{ BIND(<{Bh}> AS ?g) }}",
    "DELETE {{ GRAPH ?g {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "DELETE WHERE {{ GRAPH <{Bd}> {{ ?s ?p ?o }} }}",
    "DELETE WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "DROP GRAPH <{Bh}>",
    "DROP SILENT GRAPH <{Bh}>",
    "CLEAR GRAPH <{Bd}>",
    "CREATE GRAPH <{Bnew}>",
    "ADD <{Bh}> TO <{Ax}>",
    "COPY <{Bh}> TO DEFAULT",
    "MOVE <{Bh}> TO <{Ax}>",
    "MOVE <{Ax}> TO <{Bh}>",
    "COPY DEFAULT TO <{Bd}>",
    "INSERT DATA {{ <urn:a> <urn:a> 1 }} ; DROP GRAPH <{Bh}>",
    "LOAD <{url}/graph/{B}/hidden> INTO GRAPH <{Ax}>",
    "INSERT {{ GRAPH <{Ax}> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{url}/projects/{B}/sparql> {{ ?s ?p ?o }} }}",
    "INSERT {{ GRAPH <{Ax}> {{ ?s ?p ?o }} }} WHERE {{ \\u0053ERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
]
# updates that run but are confined to A (B untouched, nothing of B copied)
CONFINED_UPDATES = [
    "DROP ALL",
    "CLEAR NAMED",
    "DROP DEFAULT",
    "INSERT {{ GRAPH <{Ax}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "INSERT {{ GRAPH <{Ax}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}",
    "INSERT {{ GRAPH <{Ax}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g = <{Bh}>) }}",
    "DELETE WHERE {{ ?s ?p ?o }}",
    "INSERT DATA {{ GRAPH <{Adots}> {{ <urn:x> <urn:y> \"dots\" }} }}",
]


def _ufmt(world: World, q: str) -> str:
    n = world.srv.twin.naming
    return _fmt(world, q.replace("{Ad}", n.default_graph(world.A)).replace("{Ax}", world.g(world.A, "x")).replace("{Bnew}", world.g(world.B, "new"))
                .replace("{Biri}", n.project_iri(world.B)).replace("{Adots}", world.g(world.A, f"../{world.B}/hidden")))


def test_update_tricks_refused(world: World, b_unchanged: None) -> None:
    """Updates naming B's graphs, the system graph or remote data: B, the system graph and the
    network stay untouched. A project is a dataset, so B's graph IRIs name graphs of A: those
    updates run on A (or answer 404 when A has no such graph); SERVICE and LOAD are refused."""
    with world.client("A-writer") as c:
        for q in REFUSED_UPDATES:
            q, statuses = q if isinstance(q, tuple) else (q, (403,) if ("ERVICE" in q or "LOAD" in q) else (204, 404))
            text = _ufmt(world, q)
            r = c.post(f"/projects/{world.A}/sparql", content=text.encode(), headers={"Content-Type": "application/sparql-update"})
            assert r.status_code in statuses, (text, r.status_code, r.text)
            no_secret(r)
        # protocol dataset parameters naming B: graphs of A, which hold none of B's data
        for param in ("using-graph-uri", "using-named-graph-uri"):
            r = c.post(
                f"/projects/{world.A}/sparql",
                params={param: world.g(world.B, "default")},
                data={"update": f"INSERT {{ GRAPH <{world.g(world.A, 'x')}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}"},
            )
            assert r.status_code == 204, r.text
        # the federated endpoint takes no updates at all
        r = c.post("/sparql", data={"update": "DROP ALL"})
        assert r.status_code == 403
    # the project is still private (the _system graph was not touched) and no B data reached A
    with world.srv.client(None) as anon:
        assert anon.get(f"/projects/{world.B}").status_code == 401
    assert SECRET not in _a_dump(world).serialize(format="nt")


def _a_dump(world: World) -> Graph:
    return _dump(world, world.A)


def test_forbidden_update_same_as_missing(world: World) -> None:
    with world.client("A-writer") as c:
        for q in ("DROP GRAPH <{g}>", "INSERT DATA {{ GRAPH <{g}> {{ <urn:x> <urn:y> 1 }} }}", "ADD <{g}> TO DEFAULT"):
            answers = set()
            for g in (world.g(world.B, "hidden"), world.g(world.B, "never"), world.g("no-such-project", "hidden"), "http://example.org/elsewhere"):
                r = c.post(f"/projects/{world.A}/sparql", data={"update": q.format(g=g)})
                answers.add((r.status_code, err_code(r)))
            # each IRI names a graph of A: the same answer whoever else uses that IRI
            assert len(answers) == 1 and next(iter(answers))[0] in (204, 404), (q, answers)


@pytest.mark.parametrize("store", STORES)
def test_update_tricks_confined(request: pytest.FixtureRequest, store: str) -> None:
    """Destructive but legal updates on A's endpoint touch A only (own server: they wipe A)."""
    srv = live_server_on(request, store)
    w = _setup(srv)

    def b_hidden() -> set[str]:  # B's graphs no query sees (its history among them): A's updates never add any
        return {g for g in srv.twin.store.graphs() if g.startswith(srv.twin.naming.project_graph_prefix(w.B)) and g not in srv.twin.project_graphs(w.B)}

    hidden_before = b_hidden()
    with w.client("A-writer") as c:
        for q in CONFINED_UPDATES:
            before_b = w.b_dump()
            srv.put_graph(w.A, "default", f'<urn:a:s> <urn:a:p> "{OWN}" .')
            text = _ufmt(w, q)
            r = c.post(f"/projects/{w.A}/sparql", content=text.encode(), headers={"Content-Type": "application/sparql-update"})
            assert r.status_code == 204, (text, r.text)
            assert isomorphic(before_b, w.b_dump()), text
            dump = _a_dump(w)
            assert SECRET not in dump.serialize(format="nt"), text
            assert b_hidden() == hidden_before, text
    # DROP ALL really emptied A (the update did run)
    with w.client("A-writer") as c:
        c.post(f"/projects/{w.A}/sparql", data={"update": "DROP ALL"})
        r = c.get(f"/projects/{w.A}/sparql", params={"query": "ASK { GRAPH ?g { ?s ?p ?o } }"})
        assert r.json()["boolean"] is False
        r = c.get(f"/projects/{w.B}/sparql", params={"query": "ASK {}"})
        assert r.status_code == 404
    with w.client("B-reader") as c:
        r = c.get(f"/projects/{w.B}/sparql", params={"query": "SELECT ?o { ?s ?p ?o }"})
        assert SECRET in r.text


def test_update_default_graph_is_project_default(world: World) -> None:
    with world.client("A-writer") as c:
        r = c.post(f"/projects/{world.A}/sparql", data={"update": "INSERT DATA { <urn:dg> <urn:dg> \"in-A-default\" }"})
        assert r.status_code == 204
    twin = world.srv.twin
    assert twin.store.ask(f'ASK {{ GRAPH <{twin.naming.default_graph(world.A)}> {{ <urn:dg> <urn:dg> "in-A-default" }} }}')
    assert not twin.store.ask('ASK { GRAPH ?g { <urn:dg> <urn:dg> ?o } FILTER(?g != <%s>) }' % twin.naming.default_graph(world.A))
    twin.store.update(f"DELETE DATA {{ GRAPH <{twin.naming.default_graph(world.A)}> {{ <urn:dg> <urn:dg> \"in-A-default\" }} }}")


# ------------------------------------------------------------------ public project


def test_public_project_read_only_for_anonymous(world: World) -> None:
    with world.client("anon") as c:
        assert c.get(f"/projects/{world.P}").status_code == 200
        r = c.get(f"/projects/{world.P}/sparql", params={"query": "SELECT ?o { ?s ?p ?o }"})
        assert PUBLIC in r.text
        r = c.get(f"/graph/{world.P}/default", headers={"Accept": "application/n-triples"})
        assert r.status_code == 200 and PUBLIC in r.text
        r = c.post(f"/projects/{world.P}/sparql", data={"update": "DROP ALL"})
        assert r.status_code == 401
        check_rest_error(c.put(f"/graph/{world.P}/default", content=b"<urn:x> <urn:y> <urn:z> .", headers={"Content-Type": "application/n-triples"}), 401)
        check_rest_error(c.get(f"/projects/{world.P}/tokens"), 401)
    with world.client("A-reader") as c:
        check_rest_error(c.delete(f"/graph/{world.P}/default"), 403)


def test_project_made_public_then_private(world: World) -> None:
    srv = world.srv
    proj = srv.create_project("flip", description="flip")
    srv.put_graph(proj, "default", '<urn:f> <urn:f> "flip-data" .')
    admin = srv.token(proj, "admin")
    with srv.client(None) as anon, srv.client(admin) as adm:
        assert anon.get(f"/projects/{proj}/sparql", params={"query": "SELECT * {?s ?p ?o}"}).status_code == 401
        assert adm.patch(f"/projects/{proj}", json={"public": True}).status_code == 200
        r = anon.get(f"/projects/{proj}/sparql", params={"query": "SELECT * {?s ?p ?o}"})
        assert r.status_code == 200 and "flip-data" in r.text
        assert "flip-data" in anon.get("/sparql", params={"query": "SELECT * {?s ?p ?o}"}).text
        assert adm.patch(f"/projects/{proj}", json={"public": False}).status_code == 200
        assert anon.get(f"/projects/{proj}/sparql", params={"query": "SELECT * {?s ?p ?o}"}).status_code == 401
        assert "flip-data" not in anon.get("/sparql", params={"query": "SELECT * {?s ?p ?o}"}).text


# ------------------------------------------------------------------ SERVICE back to this server (allow-listed)


@pytest.fixture(scope="module")
def service_world(make_live_server: Any) -> World:
    return _setup(make_live_server(allow_self_service=True))


def test_service_allowlisted_inner_request_is_anonymous(service_world: World) -> None:
    w = service_world
    url = w.srv.url
    with w.client("B-reader") as c:
        # even a B reader: the inner request carries no token, so it sees public data only
        for who_client in (c,):
            r = who_client.get(f"/projects/{w.B}/sparql", params={"query": f"SELECT ?o {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}"})
            assert r.status_code == 200, r.text
            assert PUBLIC in r.text and SECRET not in r.text
    with w.client("A-reader") as c:
        r = c.get(f"/projects/{w.A}/sparql", params={"query": f"SELECT ?o {{ SERVICE <{url}/sparql> {{ GRAPH ?g {{ ?s ?p ?o }} }} }}"})
        assert r.status_code == 200, r.text
        assert PUBLIC in r.text and SECRET not in r.text and OWN not in r.text
        # the private project's endpoint refuses the anonymous inner request
        r = c.get(f"/projects/{w.A}/sparql", params={"query": f"SELECT ?o {{ SERVICE <{url}/projects/{w.B}/sparql> {{ ?s ?p ?o }} }}"})
        assert r.status_code == 502, r.text
        no_secret(r)
        r = c.get(f"/projects/{w.A}/sparql", params={"query": f"SELECT ?o {{ SERVICE SILENT <{url}/projects/{w.B}/sparql> {{ ?s ?p ?o }} }}"})
        assert r.status_code == 200
        no_secret(r)
        # not allow-listed hosts are still refused
        r = c.get(f"/projects/{w.A}/sparql", params={"query": "SELECT * { SERVICE <http://127.0.0.2:9/sparql> { ?s ?p ?o } }"})
        assert r.status_code == 403
        # an update may read through SERVICE, but only public data arrives
        r = c.post(f"/projects/{w.A}/sparql", data={"update": "INSERT DATA { <urn:x> <urn:y> 1 }"})
        assert r.status_code == 403  # a reader cannot write
    with w.client("A-writer") as c:
        r = c.post(
            f"/projects/{w.A}/sparql",
            data={"update": f"INSERT {{ GRAPH <{w.g(w.A, 'copied')}> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}"},
        )
        assert r.status_code == 204, r.text
        r = c.get(f"/graph/{w.A}/copied", headers={"Accept": "application/n-triples"})
        assert PUBLIC in r.text and SECRET not in r.text


# ------------------------------------------------------------------ the server never fetches URLs for a caller


@pytest.fixture
def canary() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request (nothing should ever reach it)."""
    import http.server
    import threading

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.end_headers()
            self.wfile.write(b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":"urn:canary"}}]}}')

        do_POST = do_GET

        def log_message(self, *a: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", hits
    server.shutdown()


def test_no_request_leaves_the_server(world: World, canary: tuple[str, list[str]], b_unchanged: None) -> None:
    """LOAD and SERVICE (also hidden from a naive lexer by an escaped backslash closing a string
    early for the engine) are refused before anything runs, even the syntax check."""
    url, hits = canary
    updates = [
        f"LOAD <{url}plain>",
        f"LOAD SILENT <{url}silent> INTO GRAPH <{world.g(world.A, 'x')}>",
        f'INSERT DATA {{ <urn:a> <urn:b> "x\\u005C" }} ; LOAD <{url}hidden> # " }}',
        f'INSERT {{ <urn:a> <urn:b> ?o }} WHERE {{ BIND("x\\u005C" AS ?z) SERVICE <{url}svc> {{ ?s ?p ?o }} }} # "',
        f"INSERT {{ <urn:a> <urn:b> ?s }} WHERE {{ SERVICE <{url}svc2> {{ ?s ?p ?o }} }}",
    ]
    queries = [
        f'SELECT * {{ BIND("abc\\u005C" AS ?x) SERVICE <{url}q1> {{ ?s ?p ?o }} }} # "',
        f"SELECT * {{ SERVICE <{url}q2> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ \\u0053ERVICE <{url}q3> {{ ?s ?p ?o }} }}",
    ]
    with world.client("A-writer") as c:
        for u in updates:
            r = c.post(f"/projects/{world.A}/sparql", content=u.encode(), headers={"Content-Type": "application/sparql-update"})
            # LOAD SILENT that may not run succeeds without effect (SPARQL 1.1 Update); nothing is fetched
            assert r.status_code == (204 if "LOAD SILENT" in u else 403), (u, r.text)
        for q in queries:
            for ep in (f"/projects/{world.A}/sparql", "/sparql"):
                r = c.post(ep, content=q.encode(), headers={"Content-Type": "application/sparql-query"})
                assert r.status_code == 403, (q, r.text)
                assert "urn:canary" not in r.text
    assert hits == []


def test_gsp_foreign_graph_on_own_project_same_as_missing(world: World, b_unchanged: None) -> None:
    """?graph= naming another project's graph through one's own project endpoint."""
    names = (world.g(world.B, "hidden"), world.g(world.B, "never"), world.g("no-such-project", "x"), "http://example.org/elsewhere")
    with world.client("A-writer") as c:
        for g in names:  # earlier tests may have made graphs of A with these names
            c.delete(f"/projects/{world.A}/graphs", params={"graph": g})
        for method in ("GET", "HEAD", "PUT", "POST", "DELETE"):
            answers = set()
            for g in names:
                kw: dict[str, Any] = {}
                if method in ("PUT", "POST"):
                    kw = {"content": b"<urn:x> <urn:y> <urn:z> .", "headers": {"Content-Type": "application/n-triples"}}
                r = c.request(method, f"/projects/{world.A}/graphs", params={"graph": g}, **kw)
                no_secret(r)
                answers.add((r.status_code, r.json()["code"] if "json" in r.headers.get("content-type", "") and r.content else ""))
            # each IRI names a graph of A (a project is a dataset): the same answer for all of them
            assert len(answers) == 1, (method, answers)


def test_hidden_graphs_are_not_addressable(world: World) -> None:
    """Staging/quarantine graphs (names starting with '_') are invisible to every endpoint."""
    twin = world.srv.twin
    hidden = twin.naming.staging_graph(world.A, "src")
    twin.store.update(f'INSERT DATA {{ GRAPH <{hidden}> {{ <urn:h> <urn:h> "HIDDEN-STAGING" }} }}')
    try:
        with world.client("A-admin") as c:
            for method in ("GET", "PUT", "DELETE"):
                kw: dict[str, Any] = {"content": b"<urn:x> <urn:y> <urn:z> .", "headers": {"Content-Type": "application/n-triples"}} if method == "PUT" else {}
                r = c.request(method, f"/projects/{world.A}/graphs", params={"graph": hidden}, **kw)
                assert r.status_code == 400 and r.json()["code"] == "RESERVED_GRAPH", (method, r.text)
                r = c.request(method, f"/graph/{world.A}/_staging/src", **kw)
                assert r.status_code == 404, (method, r.text)
            r = c.get(f"/projects/{world.A}/sparql", params={"query": "SELECT * { GRAPH ?g { ?s ?p ?o } }"})
            assert "HIDDEN-STAGING" not in r.text
            r = c.get(f"/projects/{world.A}/sparql", params={"query": f"SELECT * FROM <{hidden}> {{ ?s ?p ?o }}"})
            assert r.status_code == 200 and "HIDDEN-STAGING" not in r.text
            r = c.post(f"/projects/{world.A}/sparql", data={"update": f"DROP GRAPH <{hidden}>"})
            assert r.status_code == 400 and "RESERVED_GRAPH" in r.text
        assert twin.store.graph_size(hidden) == 1
    finally:
        twin.store.drop_graphs([hidden])


def test_update_sees_graphs_created_earlier_in_the_same_request(world: World) -> None:
    """One request, several operations: later ones see what earlier ones wrote (SPARQL 1.1 Update)."""
    new, copy = world.g(world.A, "made-now"), world.g(world.A, "copied-now")
    with world.client("A-writer") as c:
        r = c.post(
            f"/projects/{world.A}/sparql",
            data={"update": f'INSERT DATA {{ GRAPH <{new}> {{ <urn:n> <urn:n> "fresh" }} }} ;\n'
                  f"INSERT {{ GRAPH <{copy}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?s ?p \"fresh\" . ?s ?p ?o }} }}"},
        )
        assert r.status_code == 204, r.text
        r = c.get(f"/graph/{world.A}/copied-now", headers={"Accept": "application/n-triples"})
        assert r.status_code == 200 and '"fresh"' in r.text
        r = c.post(f"/projects/{world.A}/sparql", data={"update": f'INSERT DATA {{ GRAPH <{world.g(world.A, "tmp-now")}> {{ <urn:t> <urn:t> 1 }} }} ; CLEAR NAMED'})
        assert r.status_code == 204, r.text
        r = c.get(f"/projects/{world.A}/sparql", params={"query": "ASK { GRAPH ?g { <urn:t> <urn:t> 1 } }"})
        assert r.json()["boolean"] is False
    # restore A's named graph used by other tests
    world.srv.put_graph(world.A, "extra", f'<urn:a:s2> <urn:a:p> "{OWN}-2" .')
