"""Access control and project queries against a live server (uvicorn on 127.0.0.1, on-disk
store, queries in worker processes): reader ok, anonymous on a private project 401, another
project's data never visible, project admins manage the project's own queries."""

from __future__ import annotations

import httpx
import pytest

from .conftest import EX, SECRET, Live

BIG_AREA = "POLYGON((5.75 45.18, 5.78 45.18, 5.78 45.20, 5.75 45.20, 5.75 45.18))"
RQ = "application/sparql-query"

MY_QUERY = """#+ summary: Rooms of a storey, by label
#+ tags: [bim]
PREFIX bot: <https://w3id.org/bot#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?space ?label ?_storey_iri WHERE { ?_storey_iri bot:hasSpace ?space . OPTIONAL { ?space rdfs:label ?label } } ORDER BY ?label
"""


@pytest.fixture(scope="module")
def tokens(live: Live) -> dict[str, dict[str, str]]:
    tk = live.twin.access.tokens
    out = {}
    for name, (project, role) in {
        "reader": ("campus", "reader"),
        "writer": ("campus", "writer"),
        "admin": ("campus", "admin"),
        "other_reader": ("other", "reader"),
        "global": ("*", "admin"),
    }.items():
        out[name] = {"Authorization": "Bearer " + tk.create(project, role).secret}
    return out


def q(live: Live, path: str, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
    return httpx.get(live.url + path, params=params, headers={"Accept": "application/sparql-results+json", **(headers or {})}, timeout=30)


def values(r: httpx.Response, var: str) -> set[str]:
    return {b[var]["value"] for b in r.json()["results"]["bindings"] if var in b}


def test_reader_can_call(live: Live, tokens: dict[str, dict[str, str]]) -> None:
    r = q(live, "/projects/campus/queries/list-points-of-equipment", tokens["reader"], equipment=EX + "AHU-1")
    assert r.status_code == 200, r.text
    assert values(r, "point") == {EX + "AHU-1-SAT", EX + "AHU-1-RAT", EX + "AHU-1-SF-CMD"}
    r = q(live, "/projects/campus/queries/find-features-near-point", tokens["reader"], point="POINT(5.7607 45.1901)")
    assert values(r, "feature") == {EX + "building-A", EX + "ev-charger-1"}  # geof:distance inside the worker
    r = q(live, "/projects/campus/queries", tokens["reader"])
    assert r.status_code == 200 and len(r.json()["queries"]) >= 11


def test_anonymous_on_private_project(live: Live) -> None:
    for path in ("/projects/campus/queries/list-buildings", "/projects/campus/queries", "/projects/nope/queries/list-buildings"):
        r = q(live, path)
        assert r.status_code == 401, (path, r.text)
        assert r.json()["code"] == "AUTH_REQUIRED"
        assert r.headers["www-authenticate"].startswith("Bearer")
    r = q(live, "/projects/campus/queries/list-buildings", {"Authorization": "Bearer kgt_nope_nope"})
    assert r.status_code == 401
    # the catalogue itself is public documentation
    assert q(live, "/queries").status_code == 200


def test_public_project_is_readable_anonymously(live: Live) -> None:
    live.twin.projects.create("open", public=True)
    live.twin.store.load(f"<{EX}open-b> a <https://w3id.org/bot#Building> .".encode(), format="turtle", graph=live.twin.naming.graph("open", "b"))
    r = q(live, "/projects/open/queries/list-buildings")
    assert r.status_code == 200 and values(r, "building") == {EX + "open-b"}


def test_other_projects_data_is_never_visible(live: Live, tokens: dict[str, dict[str, str]]) -> None:
    # reader of campus asks about the other project's entities, through campus: nothing
    r = q(live, "/projects/campus/queries/show-entity-provenance", tokens["reader"], entity=SECRET)
    assert r.status_code == 200 and r.json()["results"]["bindings"] == []
    r = q(live, "/projects/campus/queries/list-spaces-by-storey", tokens["reader"], building=SECRET)
    assert r.status_code == 200 and r.json()["results"]["bindings"] == []
    r = q(live, "/projects/campus/queries/find-buildings-in-area", tokens["reader"], area=BIG_AREA)
    assert values(r, "building") == {EX + "building-A", EX + "building-B"}  # the secret building lies in this area too
    r = q(live, "/projects/campus/queries/find-features-near-point", tokens["reader"], point="POINT(5.7602 45.19015)", metres="500")
    assert SECRET not in values(r, "feature")
    # and cannot call the other project at all
    r = q(live, "/projects/other/queries/list-buildings", tokens["reader"])
    assert r.status_code == 404 and r.json()["code"] == "PROJECT_NOT_FOUND"
    # its own readers see it, and only it
    r = q(live, "/projects/other/queries/list-buildings", tokens["other_reader"])
    assert values(r, "building") == {SECRET}
    r = q(live, "/projects/other/queries/find-buildings-in-area", tokens["global"], area=BIG_AREA)
    assert values(r, "building") == {SECRET}


def test_project_queries_lifecycle(live: Live, tokens: dict[str, dict[str, str]]) -> None:
    url = live.url + "/projects/campus/queries/rooms-of-storey"
    ct = {"Content-Type": RQ}
    assert httpx.put(url, content=MY_QUERY, headers=ct).status_code == 401
    assert httpx.put(url, content=MY_QUERY, headers={**ct, **tokens["reader"]}).status_code == 403
    assert httpx.put(url, content=MY_QUERY, headers={**ct, **tokens["writer"]}).status_code == 403
    r = httpx.put(url, content=MY_QUERY, headers={**ct, **tokens["admin"]})
    assert r.status_code == 201, r.text
    assert r.json()["origin"] == "project" and r.json()["parameters"][0]["name"] == "storey"
    assert httpx.put(url, content=MY_QUERY, headers={**ct, **tokens["admin"]}).status_code == 200  # replaced
    # listed for the project, callable by readers
    listed = q(live, "/projects/campus/queries", tokens["reader"]).json()["queries"]
    assert "rooms-of-storey" in [x["name"] for x in listed]
    r = q(live, "/projects/campus/queries/rooms-of-storey", tokens["reader"], storey=EX + "A-00")
    assert r.status_code == 200, r.text
    assert values(r, "space") == {EX + "A-001", EX + "A-002", EX + "A-B01"}
    r = q(live, "/projects/campus/queries/rooms-of-storey", tokens["reader"], storey="not an iri")
    assert r.status_code == 400 and r.json()["errors"][0]["parameter"] == "storey"
    # not a query of the other project
    r = q(live, "/projects/other/queries/rooms-of-storey", tokens["other_reader"])
    assert r.status_code == 404 and r.json()["code"] == "QUERY_NOT_FOUND"
    # stored in a hidden graph: not visible to SPARQL
    r = httpx.get(live.url + "/projects/campus/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s a <https://w3id.org/kg-twin/ontology#NamedQuery> } }"},
                  headers={"Accept": "application/sparql-results+json", **tokens["admin"]})
    assert r.status_code == 200 and r.json()["results"]["bindings"][0]["n"]["value"] == "0"
    r = httpx.get(live.url + "/projects/campus/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/kg-twin/ontology#NamedQuery> }"},
                  headers={"Accept": "application/sparql-results+json", **tokens["admin"]})
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "0"
    # delete
    assert httpx.delete(url, headers=tokens["reader"]).status_code == 403
    assert httpx.delete(url, headers=tokens["admin"]).status_code == 204
    assert httpx.delete(url, headers=tokens["admin"]).status_code == 404
    assert q(live, "/projects/campus/queries/rooms-of-storey", tokens["reader"]).status_code == 404


@pytest.mark.parametrize(
    "text,code",
    [
        ("SELECT ?s WHERE { ?s ?p ?o }", "MISSING_SUMMARY"),
        ("#+ summary: x\nSELECT ?s WHERE { ?s ?p ?_o_iri }", "PARAMETER_NOT_PROJECTED"),
        ("#+ summary: x\nSELECT ?s WHERE { ?s ?p ?o", "SPARQL_SYNTAX"),
        ("#+ summary: x\nINSERT DATA { <http://a> <http://b> <http://c> }", "NOT_A_QUERY"),
        ("#+ summary: x\nSELECT ?s FROM <http://g> WHERE { ?s ?p ?o }", "DATASET_CLAUSE"),
        ("#+ summary: x\n#+ endpoint: http://dbpedia.org/sparql\nSELECT ?s WHERE { ?s ?p ?o }", "BAD_DECORATOR"),
        ("#+ summary: x\n#+ method: POST\nSELECT ?s WHERE { ?s ?p ?o }", "BAD_DECORATOR"),
        ("#+ summary: x\n#+ pagination: 10\nSELECT ?s WHERE { ?s ?p ?o }", "PAGINATION_ORDER"),
        ("#+ summary: x\nSELECT ?s ?__x_iri WHERE { ?s ?p ?o FILTER(!BOUND(?__x_iri) || ?s = ?__x_iri) }", "BOUND_ON_PARAMETER"),
        ("#+ summary: x\n#+ defaults:\n#+   - n: ten\nSELECT ?s ?__n_xsd_integer WHERE { ?s ?p ?o }", "BAD_PARAMETER"),
    ],
)
def test_bad_project_queries_are_refused(live: Live, tokens: dict[str, dict[str, str]], text: str, code: str) -> None:
    r = httpx.put(live.url + "/projects/campus/queries/bad-one", content=text, headers={"Content-Type": RQ, **tokens["admin"]})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code


def test_put_rules(live: Live, tokens: dict[str, dict[str, str]]) -> None:
    h = {"Content-Type": RQ, **tokens["admin"]}
    r = httpx.put(live.url + "/projects/campus/queries/list-buildings", content=MY_QUERY, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "QUERY_NAME_TAKEN"
    r = httpx.put(live.url + "/projects/campus/queries/Bad Name", content=MY_QUERY, headers=h)
    assert r.status_code == 400 and r.json()["code"] == "BAD_QUERY_NAME"
    r = httpx.put(live.url + "/projects/campus/queries/ok-name", content=MY_QUERY, headers={**tokens["admin"], "Content-Type": "application/json"})
    assert r.status_code == 415
    assert httpx.delete(live.url + "/projects/campus/queries/list-buildings", headers=tokens["admin"]).status_code == 409


def test_injection_through_the_worker_path(live: Live, tokens: dict[str, dict[str, str]]) -> None:
    st = live.twin.store
    before = (st.generation, sorted(st.dump_bytes(format="nquads").splitlines()))
    r = q(live, "/projects/campus/queries/list-points-of-equipment", tokens["reader"], equipment=EX + "AHU-1> ?p ?o } ; DROP ALL ; #")
    assert r.status_code == 400 and r.json()["errors"][0]["parameter"] == "equipment"
    r = q(live, "/projects/campus/queries/find-assets-missing-documents", tokens["reader"], **{"class": "https://brickschema.org/schema/Brick#AHU", "kind": '" ) } ; DROP ALL ; #'})
    assert r.status_code == 200 and values(r, "asset") == {EX + "AHU-1", EX + "AHU-2"}
    assert values(r, "__kind") == {'" ) } ; DROP ALL ; #'}
    after = (st.generation, sorted(st.dump_bytes(format="nquads").splitlines()))
    assert after == before


def test_project_delete_removes_its_queries(live: Live, tokens: dict[str, dict[str, str]]) -> None:
    tw = live.twin
    tw.projects.create("tmp")
    tok = {"Authorization": "Bearer " + tw.access.tokens.create("tmp", "admin").secret}
    r = httpx.put(live.url + "/projects/tmp/queries/mine", content=MY_QUERY, headers={"Content-Type": RQ, **tok})
    assert r.status_code == 201
    g = tw.naming.graph("tmp", "_queries")
    assert tw.store.has_graph(g)
    tw.projects.delete("tmp")
    assert not tw.store.has_graph(g)
