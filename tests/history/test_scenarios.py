"""Scenarios: a query on a scenario equals the query on a materialised copy (a second project holding
the base version's data with the same edits applied); compare; promote; conflicts; no leaks."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from kg_twin.api.app import create_app
from kg_twin.cli.main import load_dataset_file
from kg_twin.service import Twin, create_twin
from kg_twin.settings import Settings
from kg_twin.sparql.update import run_project_update

EX = "http://example.org/"
BOT = "https://w3id.org/bot#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SEED = f"""
INSERT DATA {{
  GRAPH <{EX}graphs/model> {{
    <{EX}b1> a <{BOT}Building> ; <{RDFS}label> "Library" .
    <{EX}b2> a <{BOT}Building> ; <{RDFS}label> "Gym" .
  }}
  GRAPH <{EX}graphs/energy> {{ <{EX}m1> <{EX}meters> <{EX}b1> ; <{EX}kwh> 120 . }}
}}"""
EDITS = [
    f'INSERT DATA {{ GRAPH <{EX}graphs/model> {{ <{EX}b3> a <{BOT}Building> ; <{RDFS}label> "New wing" }} }}',
    f'DELETE DATA {{ GRAPH <{EX}graphs/model> {{ <{EX}b2> <{RDFS}label> "Gym" }} }} ; INSERT DATA {{ GRAPH <{EX}graphs/model> {{ <{EX}b2> <{RDFS}label> "Sports hall" }} }}',
    f"DELETE {{ GRAPH <{EX}graphs/energy> {{ ?m <{EX}kwh> ?k }} }} INSERT {{ GRAPH <{EX}graphs/energy> {{ ?m <{EX}kwh> ?k2 }} }} WHERE {{ GRAPH <{EX}graphs/energy> {{ ?m <{EX}kwh> ?k }} BIND(?k * 0.7 AS ?k2) }}",
    f"INSERT DATA {{ GRAPH <{EX}graphs/plan> {{ <{EX}b3> <{EX}phase> 1 }} }}",
]
QUERIES = [
    "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
    f"SELECT ?b ?l WHERE {{ ?b a <{BOT}Building> OPTIONAL {{ ?b <{RDFS}label> ?l }} }}",
    f"SELECT (SUM(?k) AS ?total) WHERE {{ GRAPH <{EX}graphs/energy> {{ ?m <{EX}kwh> ?k }} }}",
]


def _rows(client: Any, url: str, query: str, token: str) -> list[tuple[tuple[str, str], ...]]:
    r = client.get(url, params={"query": query}, headers={"Authorization": f"Bearer {token}", "Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return sorted(tuple(sorted((k, v["value"]) for k, v in b.items())) for b in json.loads(r.content)["results"]["bindings"])


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[tuple[Twin, Any, str, str]]:
    from fastapi.testclient import TestClient

    twin = create_twin(Settings(store="memory", data_dir=tmp_path, infer_on_change=False))
    twin.projects.create("city")
    run_project_update(twin, "city", SEED)
    admin = twin.access.tokens.create("*", "admin").secret
    reader = twin.access.tokens.create("city", "reader").secret
    with TestClient(create_app(twin.settings, twin=twin)) as client:
        yield twin, client, admin, reader
    twin.close()


def _materialised(twin: Twin, tmp: Path, name: str, base_export: bytes, edits: list[str]) -> None:
    twin.projects.create(name)
    f = tmp / f"{name}.nq"
    f.write_bytes(base_export)
    load_dataset_file(twin, name, f, "nquads")
    for e in edits:
        run_project_update(twin, name, e)


def test_scenario_query_equals_the_query_on_a_materialised_copy(world, tmp_path: Path):
    twin, client, admin, reader = world
    buf = io.BytesIO()
    twin.export("city", buf)
    base_export = buf.getvalue()
    h = {"Authorization": f"Bearer {admin}"}
    r = client.post("/projects/city/scenarios", json={"id": "retrofit", "title": "Retrofit 2030"}, headers=h)
    assert r.status_code == 201, r.text
    for e in EDITS:
        r = client.post("/projects/city/scenarios/retrofit/sparql", content=e, headers={**h, "Content-Type": "application/sparql-update"})
        assert r.status_code == 204, r.text
    # the project moves on meanwhile, in a graph the scenario does not edit and in one it does
    run_project_update(twin, "city", f"INSERT DATA {{ GRAPH <{EX}graphs/other> {{ <{EX}x> <{EX}y> 1 }} GRAPH <{EX}graphs/model> {{ <{EX}b1> <{EX}floors> 2 }} }}")
    _materialised(twin, tmp_path, "copy", base_export, EDITS)
    for q in QUERIES:
        assert _rows(client, "/projects/city/scenarios/retrofit/sparql", q, reader) == _rows(client, "/projects/copy/sparql", q, admin), q
    # the project itself is untouched by the scenario; nothing leaks into the federated endpoint
    assert not _rows(client, "/projects/city/sparql", f"SELECT * WHERE {{ <{EX}b3> ?p ?o }}", reader)
    fed = _rows(client, "/sparql", f"SELECT ?g WHERE {{ GRAPH ?g {{ <{EX}b3> ?p ?o }} }}", admin)
    assert all("/graph/city/" not in dict(row)["g"] for row in fed)
    # compare: a named query on the base version and on the scenario, side by side
    r = client.get("/projects/city/scenarios/retrofit/compare", params={"query": "list-buildings"}, headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 200, r.text
    body = r.json()
    labels = lambda side: sorted(b["label"]["value"] for b in body[side]["results"]["bindings"])  # noqa: E731
    assert labels("base") == ["Gym", "Library"] and labels("scenario") == ["Library", "New wing", "Sports hall"]
    # readers may not edit
    r = client.post("/projects/city/scenarios/retrofit/sparql", content=EDITS[0], headers={"Authorization": f"Bearer {reader}", "Content-Type": "application/sparql-update"})
    assert r.status_code == 403
    # promote: the scenario's changes on top of what the project did since, as one new version
    head = twin.history.head("city")
    r = client.post("/projects/city/scenarios/retrofit/promote", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == head + 1
    run_project_update(twin, "copy", f"INSERT DATA {{ GRAPH <{EX}graphs/other> {{ <{EX}x> <{EX}y> 1 }} GRAPH <{EX}graphs/model> {{ <{EX}b1> <{EX}floors> 2 }} }}")
    for q in QUERIES:
        assert _rows(client, "/projects/city/sparql", q, admin) == _rows(client, "/projects/copy/sparql", q, admin), q
    assert client.get("/projects/city/scenarios/retrofit", headers=h).status_code == 404


def test_promote_refused_when_the_base_changed_the_same_triples(world):
    twin, client, admin, _ = world
    h = {"Authorization": f"Bearer {admin}"}
    assert client.post("/projects/city/scenarios", json={"id": "rename"}, headers=h).status_code == 201
    client.post("/projects/city/scenarios/rename/sparql", content=EDITS[1], headers={**h, "Content-Type": "application/sparql-update"})
    run_project_update(twin, "city", f'DELETE DATA {{ GRAPH <{EX}graphs/model> {{ <{EX}b2> <{RDFS}label> "Gym" }} }}')
    before = twin.store.dump_bytes(format="nquads", graphs=twin.project_graphs("city", include_inferred=False))
    head = twin.history.head("city")
    r = client.post("/projects/city/scenarios/rename/promote", headers=h)
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "SCENARIO_CONFLICT" and any('"Gym"' in e["quad"] for e in body["errors"])
    assert twin.history.head("city") == head
    assert twin.store.dump_bytes(format="nquads", graphs=twin.project_graphs("city", include_inferred=False)) == before


def test_scenario_updates_with_graph_variables_are_refused(world):
    twin, client, admin, _ = world
    twin.scenarios.create("city", "s1")
    h = {"Authorization": f"Bearer {admin}", "Content-Type": "application/sparql-update"}
    r = client.post("/projects/city/scenarios/s1/sparql", content="DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }", headers=h)
    assert r.status_code == 400 and "SCENARIO_GRAPH_VARIABLE" in r.text
    assert twin.scenarios.changes("city", "s1").added == []
