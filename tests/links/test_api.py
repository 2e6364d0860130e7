"""The link API over HTTP against a real server (uvicorn on 127.0.0.1): run a specification, the
review queue round trip (list, accept, reject), decisions kept and applied again by the next run,
links from another project and from an allow-listed external SPARQL endpoint, and the errors."""

from __future__ import annotations

from typing import Any

import pytest

L93 = "<http://www.opengis.net/def/crs/EPSG/0/2154> "
X0, Y0 = 640000.0, 6365000.0
KGT = "https://w3id.org/kg-twin/ontology#"


def _square(x: float, y: float, size: float = 20.0) -> str:
    return f"POLYGON(({x} {y}, {x + size} {y}, {x + size} {y + size}, {x} {y + size}, {x} {y}))"


def _buildings(prefix: str, squares: dict[str, tuple[float, float]]) -> str:
    out = ["@prefix geo: <http://www.opengis.net/ont/geosparql#> .", "@prefix bot: <https://w3id.org/bot#> .", "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> ."]
    for name, (dx, dy) in squares.items():
        out.append(f'<{prefix}{name}> a bot:Building ; rdfs:label "{name}" ; geo:hasDefaultGeometry <{prefix}{name}/g> .')
        out.append(f'<{prefix}{name}/g> geo:asWKT "{L93}{_square(X0 + dx, Y0 + dy)}"^^geo:wktLiteral .')
    return "\n".join(out) + "\n"


CADASTRE = _buildings("http://example.org/cadastre/", {"b1": (0, 0), "b2": (100, 0), "b3": (300, 0)})
# s1 = b1 moved 1 m (the same building); s2 = b2 moved 6 m (review band); s3 is nowhere near b3
SURVEY = _buildings("http://example.org/survey/", {"s1": (1, 0), "s2": (106, 0), "s3": (1000, 1000)})

SPEC = """
name: buildings
source: {graphs: [survey], class: bot:Building}
target: {graphs: [cadastre], class: bot:Building}
measures:
  - {type: iou, weight: 2}
  - {type: distance, max: 10, weight: 1}
crs: EPSG:2154
relation: owl:sameAs
identity: 0.75
accept: 0.55
review: 0.35
"""
S, C = "http://example.org/survey/", "http://example.org/cadastre/"


@pytest.fixture(scope="module")
def server(make_live_server: Any) -> Any:
    return make_live_server(allow_self_service=True)


def _ask(client: Any, project: str, query: str) -> bool:
    r = client.post(f"/projects/{project}/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return bool(r.json()["boolean"])


def _run(client: Any, project: str, **body: Any) -> dict[str, Any]:
    r = client.post(f"/projects/{project}/links", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_review_round_trip_over_http(server: Any) -> None:
    p = server.create_project("links")
    server.put_graph(p, "cadastre", CADASTRE)
    server.put_graph(p, "survey", SURVEY)
    writer = server.token(p, "writer")
    with server.client(writer) as c:
        r = c.post(f"/projects/{p}/links", content=SPEC, headers={"Content-Type": "application/yaml"})
        assert r.status_code == 200, r.text
        run = r.json()
        assert (run["sources"], run["targets"], run["accepted"], run["review"]) == (3, 3, 1, 1)
        assert run["graph"] == server.graph_iri(p, "links/buildings")
        # the accepted link is asserted with its score and the run that found it, which names the spec
        assert _ask(c, p, f"ASK {{ <{S}s1> <http://www.w3.org/2002/07/owl#sameAs> <{C}b1> }}")
        assert _ask(c, p, f"""ASK {{ ?l <{KGT}score> ?v ; <http://www.w3.org/1999/02/22-rdf-syntax-ns#subject> <{S}s1> ;
            <http://www.w3.org/ns/prov#wasGeneratedBy> ?run . ?run a <http://www.w3.org/ns/prov#Activity> ;
            <http://www.w3.org/ns/prov#used> [ <http://www.w3.org/2000/01/rdf-schema#label> "buildings" ; <{KGT}specificationText> ?yaml ]
            FILTER(?v > 0.75) }}""")
        # the review band: listed, not asserted
        queue = c.get(f"/projects/{p}/links/review").json()
        assert queue["count"] == 1
        item = queue["items"][0]
        assert (item["source"], item["target"], item["status"]) == (S + "s2", C + "b2", "review")
        assert 0.35 <= item["score"] < 0.55
        # below the identity threshold: accepting it asserts skos:closeMatch, never owl:sameAs
        assert item["predicate"] == "http://www.w3.org/2004/02/skos/core#closeMatch"
        assert not _ask(c, p, f"ASK {{ <{S}s2> ?p <{C}b2> }}")
        r = c.post(f"/projects/{p}/links/review/{item['id']}", json={"decision": "accept"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "accepted"
        assert _ask(c, p, f"ASK {{ <{S}s2> <http://www.w3.org/2004/02/skos/core#closeMatch> <{C}b2> }}")
        assert c.get(f"/projects/{p}/links/review").json()["count"] == 0
        # a new run keeps the decision
        again = _run(c, p, name="buildings")
        assert (again["accepted"], again["review"], again["decisions_applied"]) == (2, 0, 1)
        assert _ask(c, p, f"ASK {{ <{S}s2> <http://www.w3.org/2004/02/skos/core#closeMatch> <{C}b2> }}")
        accepted = c.get(f"/projects/{p}/links/review", params={"status": "accepted"}).json()["items"]
        assert {(x["source"], x["target"], x["decision"]) for x in accepted} == {(S + "s1", C + "b1", None), (S + "s2", C + "b2", "accepted")}
        # rejecting withdraws the link at once, and the next run does not propose the pair again
        first = next(x for x in accepted if x["source"] == S + "s1")
        assert c.post(f"/projects/{p}/links/review/{first['id']}", json={"decision": "reject"}).status_code == 200
        assert not _ask(c, p, f"ASK {{ <{S}s1> ?p <{C}b1> }}")
        third = _run(c, p, name="buildings")
        assert (third["accepted"], third["review"], third["rejected"]) == (1, 0, 1)
        assert not _ask(c, p, f"ASK {{ <{S}s1> ?p <{C}b1> }}")
        # the decisions are data too
        assert _ask(c, p, f'ASK {{ GRAPH ?g {{ ?d a <{KGT}LinkDecision> ; <{KGT}decision> "rejected" }} }}')


def test_errors_are_clear(server: Any) -> None:
    p = server.create_project("links")
    server.put_graph(p, "cadastre", CADASTRE)
    reader, writer = server.token(p, "reader"), server.token(p, "writer")
    with server.client(writer) as c:
        r = c.post(f"/projects/{p}/links", content=SPEC.replace("iou", "contains"), headers={"Content-Type": "application/yaml"})
        assert r.status_code == 400 and r.json()["code"] == "LINK_SPEC_IDENTITY" and r.json()["ok"] is False
        r = c.post(f"/projects/{p}/links", content=SPEC, headers={"Content-Type": "application/yaml"})
        assert r.status_code == 400 and r.json()["code"] == "LINK_GRAPH_NOT_FOUND"  # no graph 'survey'
        r = c.post(f"/projects/{p}/links", content="name: x\nsource: {label: 'rdfs:label } DROP ALL {'}\ntarget: {}\nmeasures: [label]\n", headers={"Content-Type": "application/yaml"})
        assert r.status_code == 400 and r.json()["code"] == "LINK_SPEC_TERM"
        r = c.post(f"/projects/{p}/links", content=b"<x/>", headers={"Content-Type": "application/xml"})
        assert r.status_code == 415
        r = c.post(f"/projects/{p}/links", json={"name": "never-ran"})
        assert r.status_code == 404 and r.json()["code"] == "LINK_SPEC_NOT_FOUND"
        r = c.post(f"/projects/{p}/links/review/0123456789abcdef", json={"decision": "accept"})
        assert r.status_code == 404 and r.json()["code"] == "LINK_NOT_FOUND"
        r = c.post(f"/projects/{p}/links/review/0123456789abcdef", json={"decision": "maybe"})
        assert r.status_code in (400, 422)
    with server.client(reader) as c:
        r = c.post(f"/projects/{p}/links", content=SPEC, headers={"Content-Type": "application/yaml"})
        assert r.status_code == 403
        assert c.get(f"/projects/{p}/links/review").status_code == 200
    with server.client() as c:
        assert c.get(f"/projects/{p}/links/review").status_code == 401


def test_other_project_needs_read_access(server: Any) -> None:
    mine, other = server.create_project("links"), server.create_project("links")
    server.put_graph(mine, "survey", SURVEY)
    server.put_graph(other, "cadastre", CADASTRE)
    spec = SPEC.replace("target: {graphs: [cadastre]", f"target: {{project: {other}, graphs: [cadastre]")
    with server.client(server.token(mine, "writer")) as c:
        r = c.post(f"/projects/{mine}/links", content=spec, headers={"Content-Type": "application/yaml"})
        assert r.status_code == 404  # the other project is invisible to this caller
    with server.client(server.admin) as c:
        run = _run(c, mine, spec=spec)
        assert (run["accepted"], run["review"]) == (1, 1)
        assert _ask(c, mine, f"ASK {{ <{S}s1> <http://www.w3.org/2002/07/owl#sameAs> <{C}b1> }}")


@pytest.mark.slow  # starts a second server
def test_external_endpoint_allow_list(server: Any, make_live_server: Any) -> None:
    mine, public = server.create_project("links"), server.create_project("links", public=True)
    server.put_graph(mine, "survey", SURVEY)
    server.put_graph(public, "cadastre", CADASTRE)
    endpoint = f"{server.url}/projects/{public}/sparql"  # on the allow-list of this server
    spec = SPEC.replace("target: {graphs: [cadastre]", f"target: {{endpoint: '{endpoint}'")
    with server.client(server.token(mine, "writer")) as c:
        run = _run(c, mine, spec=spec)
        assert (run["targets"], run["accepted"], run["review"]) == (3, 1, 1)
        assert _ask(c, mine, f"ASK {{ <{S}s1> <http://www.w3.org/2002/07/owl#sameAs> <{C}b1> }}")
    closed = make_live_server()  # empty allow-list: no outbound request at all
    p = closed.create_project("links")
    closed.put_graph(p, "survey", SURVEY)
    with closed.client(closed.admin) as c:
        r = c.post(f"/projects/{p}/links", json={"spec": spec})
        assert r.status_code == 403 and r.json()["code"] == "LINK_ENDPOINT_NOT_ALLOWED"
