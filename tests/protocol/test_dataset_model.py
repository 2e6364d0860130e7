"""A project is an RDF dataset: any graph IRI, isolation by project, default-graph modes, set union.

Run over HTTP against a live server, as clients see it (docs/api.md, "Dataset model").
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer

EX = "http://example.org/"
SPARQL_JSON = {"Accept": "application/sparql-results+json"}


def _update(c: httpx.Client, p: str, text: str, status: int = 204) -> httpx.Response:
    r = c.post(f"/projects/{p}/sparql", content=text.encode(), headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == status, r.text
    return r


def _rows(c: httpx.Client, p: str, query: str, **params: Any) -> list[dict[str, str]]:
    r = c.get(f"/projects/{p}/sparql", params={"query": query, **params}, headers=SPARQL_JSON)
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def _count(c: httpx.Client, p: str, where: str, **params: Any) -> int:
    return int(_rows(c, p, f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}", **params)[0]["n"])


@pytest.fixture(scope="module")
def srv(make_live_server: Any) -> LiveServer:
    return make_live_server()


def test_two_projects_hold_the_same_graph_iri_without_seeing_each_other(srv: LiveServer) -> None:
    a, b = srv.create_project("dsa"), srv.create_project("dsb")
    with srv.client(srv.admin) as c:
        for p in (a, b):
            r = c.put(f"/projects/{p}/graphs", params={"graph": EX + "g"}, content=f'<{EX}s> <{EX}owner> "{p}" .'.encode(), headers={"Content-Type": "application/n-triples"})
            assert r.status_code == 201, r.text
        for p in (a, b):
            rows = _rows(c, p, f"SELECT ?g ?o {{ GRAPH ?g {{ <{EX}s> <{EX}owner> ?o }} }}")
            assert rows == [{"g": EX + "g", "o": p}]
            r = c.get(f"/projects/{p}/graphs", params={"graph": EX + "g"}, headers={"Accept": "application/n-triples"})
            assert r.status_code == 200 and f'"{p}"' in r.text and f'"{a if p == b else b}"' not in r.text
        # dropping it in one project leaves the other's
        _update(c, a, f"DROP GRAPH <{EX}g>")
        assert _count(c, a, f"GRAPH <{EX}g> {{ ?s ?p ?o }}") == 0
        assert _count(c, b, f"GRAPH <{EX}g> {{ ?s ?p ?o }}") == 1
        # the federated endpoint sees both, each under its project's prefix
        r = c.get("/sparql", params={"query": f"SELECT ?g {{ GRAPH ?g {{ <{EX}s> <{EX}owner> ?o }} }}"}, headers=SPARQL_JSON)
        gs = [x["g"]["value"] for x in r.json()["results"]["bindings"]]
        assert gs == [srv.twin.naming.project_graph_prefix(b) + "~/" + EX + "g"]


def test_union_mode_is_a_set_and_default_mode_is_the_unnamed_graph(srv: LiveServer) -> None:
    u, d = srv.create_project("dsu"), srv.create_project("dsd", default_graph="default")
    data = f'INSERT DATA {{ <{EX}s> <{EX}label> "one" . GRAPH <{EX}g1> {{ <{EX}s> <{EX}label> "one" . <{EX}s> <{EX}label> "only-g1" }} GRAPH <{EX}g2> {{ <{EX}s> <{EX}label> "one" }} }}'
    with srv.client(srv.admin) as c:
        for p in (u, d):
            _update(c, p, data)
        # union: each triple once however many graphs hold it
        assert _count(c, u, "?s ?p ?o") == 2
        assert _count(c, u, f"?s <{EX}label> ?l . ?s <{EX}label> ?m") == 4
        # default: the unnamed graph only
        assert _count(c, d, "?s ?p ?o") == 1
        for p in (u, d):
            # the unnamed default graph is never a named graph; named graphs keep client names
            assert sorted(r["g"] for r in _rows(c, p, "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }")) == [EX + "g1", EX + "g2"]
            assert _rows(c, p, f"SELECT ?l {{ GRAPH ?g {{ ?s <{EX}label> ?l }} FILTER(?g = <{EX}g1> && ?l != \"one\") }}") == [{"l": "only-g1"}]
            assert _count(c, p, "?s ?p ?o", **{"default-graph-uri": EX + "g1"}) == 2
            r = c.get(f"/projects/{p}/sparql", params={"query": "SELECT ?g { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": EX + "g2"}, headers=SPARQL_JSON)
            assert {x["g"]["value"] for x in r.json()["results"]["bindings"]} == {EX + "g2"}
        # the service description says which mode
        assert "UnionDefaultGraph" in c.get(f"/projects/{u}/sparql").text
        assert "UnionDefaultGraph" not in c.get(f"/projects/{d}/sparql").text
        assert c.get(f"/projects/{d}").json()["default_graph"] == "default"


def test_graph_variables_bind_client_names_everywhere(srv: LiveServer) -> None:
    p = srv.create_project("dsv", default_graph="default")
    with srv.client(srv.admin) as c:
        _update(c, p, f"INSERT DATA {{ <{EX}src> <{EX}into> <{EX}target> . GRAPH <{EX}meta> {{ <{EX}x> <{EX}p> 1 }} }}")
        # a graph variable in a template writes to the graph it is bound to
        _update(c, p, f"INSERT {{ GRAPH ?g {{ <{EX}x> <{EX}copied> true }} }} WHERE {{ ?s <{EX}into> ?g }}")
        assert _count(c, p, f"GRAPH <{EX}target> {{ <{EX}x> <{EX}copied> true }}") == 1
        # joins with triples about the graph, EXISTS with an outer binding, STR
        assert _rows(c, p, f"SELECT ?g {{ ?s <{EX}into> ?g . GRAPH ?g {{ ?x ?p ?o }} }}") == [{"g": EX + "target"}]
        assert _rows(c, p, f"SELECT ?s {{ ?s <{EX}into> ?g FILTER EXISTS {{ GRAPH ?g {{ ?a ?b ?c }} }} }}") == [{"s": EX + "src"}]
        assert sorted(r["n"] for r in _rows(c, p, "SELECT (STR(?g) AS ?n) { GRAPH ?g { } }")) == [EX + "meta", EX + "target"]
        # a template variable bound to a reserved name or a literal writes nothing
        inferred = srv.twin.naming.inferred_graph(p)
        _update(c, p, f'INSERT {{ GRAPH ?g {{ <{EX}bad> <{EX}p> 1 }} }} WHERE {{ VALUES ?g {{ <{inferred}> "lit" }} }}')
        assert _count(c, p, f"<{EX}bad> ?p ?o") == 0 and _count(c, p, f"GRAPH ?g {{ <{EX}bad> ?p ?o }}") == 0
        assert srv.twin.store.graph_size(inferred) == 0


@pytest.mark.parametrize(
    ("graph", "code"),
    [
        ("http://example.org/a b", "BAD_GRAPH_IRI"),
        ("http://example.org/a\x00b", "BAD_GRAPH_IRI"),
        ("http://example.org/a\nb", "BAD_GRAPH_IRI"),
        ("http://example.org/<x>", "BAD_GRAPH_IRI"),
        ("../other/x", "BAD_GRAPH"),
        ("relative/../../x", "BAD_GRAPH"),
    ],
)
def test_bad_graph_names_are_refused_and_nothing_is_written(srv: LiveServer, graph: str, code: str) -> None:
    p = srv.create_project("dsbad")
    before = sorted(srv.twin.store.graphs())
    with srv.client(srv.admin) as c:
        for method in ("PUT", "POST", "GET", "DELETE"):
            r = c.request(method, f"/projects/{p}/graphs", params={"graph": graph}, content=b"<urn:a> <urn:b> <urn:c> .", headers={"Content-Type": "application/n-triples"})
            assert r.status_code == 400 and r.json()["code"] == code, (method, r.text)
            assert r.json()["hint"]
    assert sorted(srv.twin.store.graphs()) == before


def test_reserved_graphs_cannot_be_written(srv: LiveServer) -> None:
    p = srv.create_project("dsres")
    n = srv.twin.naming
    with srv.client(srv.admin) as c:
        for g in (n.inferred_graph(p), n.staging_graph(p, "x"), n.project_graph_prefix(p) + "~/" + EX + "g"):
            r = c.put(f"/projects/{p}/graphs", params={"graph": g}, content=b"<urn:a> <urn:b> <urn:c> .", headers={"Content-Type": "application/n-triples"})
            assert r.status_code == 400 and r.json()["code"] == "RESERVED_GRAPH", r.text
            r = _update(c, p, f"INSERT DATA {{ GRAPH <{g}> {{ <urn:a> <urn:b> <urn:c> }} }}", status=400)
            assert "RESERVED_GRAPH" in r.text


def test_export_and_load_give_the_same_project_back(srv: LiveServer, tmp_path: Any) -> None:
    from kg_twin.cli.main import load_dataset_file

    src, dst = srv.create_project("dsexp", default_graph="default"), srv.create_project("dsimp", default_graph="default")
    everything = "SELECT ?g ?s ?p ?o { { GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o } }"
    with srv.client(srv.admin) as c:
        _update(c, src, f'INSERT DATA {{ <{EX}a> <{EX}p> "default" . GRAPH <{EX}g> {{ <{EX}a> <{EX}p> "named" }} GRAPH <{srv.graph_iri(src, "minted")}> {{ <{EX}a> <{EX}p> "minted" }} }}')
        trig = c.get(f"/projects/{src}/graphs", headers={"Accept": "application/trig"})
        assert trig.status_code == 200 and "~/" not in trig.text
        f = tmp_path / "src.trig"
        f.write_bytes(trig.content)
        load_dataset_file(srv.twin, dst, f, "trig")
        srv.twin.notify(dst)
        want = sorted(tuple(sorted(r.items())) for r in _rows(c, src, everything))
        got = sorted(tuple(sorted(r.items())) for r in _rows(c, dst, everything))
        assert len(want) == 3 and got == want


def test_ingest_keeps_the_graph_iri_it_is_given_and_never_renames(srv: LiveServer) -> None:
    p = srv.create_project("dsing", default_graph="default")
    ttl = f'<{EX}b1> a <https://brickschema.org/schema/Brick#Building> ; <http://www.w3.org/2000/01/rdf-schema#label> "B1" .\n'.encode()
    with srv.client(srv.admin) as c:
        r = c.post(f"/projects/{p}/ingest", params={"graph": EX + "sources/b"}, files={"file": ("b.ttl", ttl, "text/turtle")})
        assert r.status_code in (200, 201), r.text
        assert _rows(c, p, f"SELECT ?l {{ GRAPH <{EX}sources/b> {{ ?b <http://www.w3.org/2000/01/rdf-schema#label> ?l }} }}") == [{"l": "B1"}]
        r = c.post(f"/projects/{p}/ingest", params={"graph": "Bad Name"}, files={"file": ("b.ttl", ttl, "text/turtle")})
        assert r.status_code == 400 and r.json()["code"] == "BAD_GRAPH" and "bad-name" in r.json()["hint"], r.text
