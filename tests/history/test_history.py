"""History: a sequence of writes through every write path, then every version read back.

* as-of (``?asOf=`` on the project endpoint) at every version is isomorphic to the dataset
  exported right after that version was written;
* the diff of two versions is the set difference of the two saved datasets;
* restore gives back the old dataset, as a new version;
* readers read history, only writers restore.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Iterator

import pytest
from rdflib import Dataset as RDataset
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from kg_twin.api.app import create_app
from kg_twin.cli.main import load_dataset_file
from kg_twin.ingest.pipeline import ingest
from kg_twin.ingest.run import IngestOptions
from kg_twin.service import Twin, create_twin
from kg_twin.settings import Settings
from kg_twin.sparql.update import run_project_update

P = "hist"
EX = "http://example.org/"


def _export(twin: Twin) -> bytes:
    buf = io.BytesIO()
    twin.export(P, buf, format="nquads")
    return buf.getvalue()


def _stored(twin: Twin) -> set[str]:
    """The project's versioned graphs as N-Quads rows in stored names (what diffs are made of)."""
    graphs = [g for g in twin.project_graphs(P, include_inferred=False) if twin.history.names.versioned(g)]
    return {line for line in twin.store.dump_bytes(format="nquads", graphs=graphs).decode().splitlines() if line.strip()}


def _graphs(nquads: bytes) -> dict[str, Graph]:
    ds = RDataset()
    ds.parse(data=nquads, format="nquads")
    out: dict[str, Graph] = {}
    for s, p, o, g in ds.quads((None, None, None, None)):
        key = "" if g is None or str(g.identifier if hasattr(g, "identifier") else g) == "urn:x-rdflib:default" else str(g.identifier if hasattr(g, "identifier") else g)
        out.setdefault(key, Graph()).add((s, p, o))
    return out


def _same(a: dict[str, Graph], b: dict[str, Graph]) -> bool:
    keys = {k for k, g in a.items() if len(g)} | {k for k, g in b.items() if len(g)}
    return all(isomorphic(a.get(k, Graph()), b.get(k, Graph())) for k in keys)


def _pending(twin: Twin, source: Path, graph: str, prov: str) -> None:
    nt = source.with_suffix(".nt")
    nt.write_bytes(twin.store.dump_bytes(format="ntriples", graphs=[twin.naming.graph(P, "sites")]))
    with twin.store.pending_load(nt, format="ntriples", graph=graph) as h:
        h.add(f"<{EX}extra> <{EX}p> \"1\" .".encode())
        h.commit(f"INSERT DATA {{ GRAPH <{prov}> {{ <{EX}load1> a <http://www.w3.org/ns/prov#Activity> }} }}")


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Twin, object, list[tuple[int, bytes, set[str]]]]]:
    from fastapi.testclient import TestClient

    tmp = tmp_path_factory.mktemp("history")
    twin = create_twin(Settings(store="memory", data_dir=tmp, infer_on_change=False))
    twin.projects.create(P, default_graph="default")
    g = lambda name: twin.naming.graph(P, name)  # noqa: E731
    ttl = tmp / "sites.ttl"
    ttl.write_text(f"<{EX}b1> a <{EX}Building> ; <{EX}name> 'B1' .\n<{EX}b2> a <{EX}Building> ; <{EX}name> 'B2' .\n")
    src1, src2 = tmp / "s1" / "survey.ttl", tmp / "s2" / "survey.ttl"
    src1.parent.mkdir()
    src2.parent.mkdir()
    src1.write_text(f"<{EX}b1> <{EX}height> 12 .\n<{EX}b2> <{EX}height> 30 .\n")
    src2.write_text(f"<{EX}b1> <{EX}height> 14 .\n<{EX}b2> <{EX}height> 30 .\n")
    nq = tmp / "extra.nq"
    nq.write_text(f"<{EX}s1> <{EX}in> <{EX}b1> <{EX}graphs/extra> .\n<{EX}s1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}Space> <{EX}graphs/extra> .\n<{EX}s1> <{EX}name> \"S1\" .\n")
    writes = [
        lambda: twin.store.load(f"<{EX}z1> a <{EX}Zone> .".encode(), format="turtle", graph=g("zones")),  # new graph from bytes
        lambda: twin.store.load(ttl, format="turtle", graph=g("sites")),  # new graph from a file: pending load
        lambda: run_project_update(twin, P, f"INSERT DATA {{ <{EX}b1> <{EX}floors> 3 . GRAPH <{EX}graphs/points> {{ <{EX}p1> a <{EX}Point> ; <{EX}of> <{EX}b1> }} }}"),
        lambda: run_project_update(twin, P, f"DELETE DATA {{ <{EX}b1> <{EX}floors> 3 }} ; INSERT DATA {{ <{EX}b1> <{EX}floors> 4 . <{EX}b9> <{EX}floors> 1 }} ; DELETE DATA {{ <{EX}b9> <{EX}floors> 1 }}"),
        lambda: run_project_update(twin, P, f"DELETE {{ GRAPH ?g {{ ?s <{EX}name> ?n }} }} INSERT {{ GRAPH ?g {{ ?s <{EX}name> 'renamed' }} }} WHERE {{ GRAPH ?g {{ ?s <{EX}name> ?n FILTER(?n = 'B2') }} }}"),
        lambda: twin.store.load(f"<{EX}z2> a <{EX}Zone> .".encode(), format="turtle", graph=g("zones"), replace=True),  # replace
        lambda: twin.store.load(f"<{EX}z3> a <{EX}Zone> .".encode(), format="turtle", graph=g("zones")),  # add
        lambda: load_dataset_file(twin, P, nq, "nquads"),  # dataset file (kg-twin load of N-Quads)
        lambda: twin.store.drop_graphs([g("zones")]),
        lambda: ingest(twin, P, src1, IngestOptions(graph="survey", validate=False)),  # ingest: new graph + provenance
        lambda: _pending(twin, ttl, g("pending"), g("provenance")),  # a big ingest's path: bulk load + commit update
        lambda: ingest(twin, P, src2, IngestOptions(graph="survey", validate=False)),  # re-ingest: replaced graph
        lambda: run_project_update(twin, P, f"COPY <{EX}graphs/points> TO <{EX}graphs/copy> ; CLEAR GRAPH <{EX}graphs/points>"),
        lambda: run_project_update(twin, P, "INSERT DATA { <http://example.org/b1> <http://example.org/floors> 4 }"),  # already there: no change
    ]
    saved = [(0, _export(twin), _stored(twin))]
    for w in writes:
        w()
        saved.append((twin.history.head(P), _export(twin), _stored(twin)))
    app = create_app(twin.settings, twin=twin)
    with TestClient(app) as client:
        yield twin, client, saved
    twin.close()


def _as_of(client: object, token: str, spec: str) -> dict[str, Graph]:
    q = "SELECT ?g ?s ?p ?o WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    r = client.get(f"/projects/{P}/sparql", params={"query": q, "asOf": spec}, headers={"Authorization": f"Bearer {token}", "Accept": "application/sparql-results+json"})  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    rows = json.loads(r.content)["results"]["bindings"]

    def term(b: dict[str, str]) -> str:
        if b["type"] == "uri":
            return f"<{b['value']}>"
        v = json.dumps(b["value"])
        return v + (f"^^<{b['datatype']}>" if "datatype" in b else f"@{b['xml:lang']}" if "xml:lang" in b else "")

    lines = [f"{term(r['s'])} {term(r['p'])} {term(r['o'])}" + (f" <{r['g']['value']}>" if "g" in r else "") + " ." for r in rows]
    return _graphs("\n".join(lines).encode())


def test_every_write_path_made_one_version(scene):
    twin, _, saved = scene
    seqs = [s for s, _, _ in saved]
    assert seqs == list(range(len(saved)))  # one version per write, the no-op update included
    versions, total = twin.history.versions(P)
    assert total == len(saved) - 1 and all(v.sealed for v in versions)
    assert versions[0].added == 0 and versions[0].removed == 0  # the no-op
    assert {v.activity for v in versions} == {"update", "load"}
    ingests = [v for v in versions if v.prov_activity]  # an ingest's version links its PROV activity
    assert len(ingests) == 3 and all(twin.store.ask(f"ASK {{ GRAPH ?g {{ <{v.prov_activity}> a <http://www.w3.org/ns/prov#Activity> }} }}") for v in ingests)


def test_as_of_every_version_is_the_dataset_saved_then(scene):
    twin, client, saved = scene
    token = twin.access.tokens.create(P, "reader").secret
    for seq, nquads, _ in saved:
        assert _same(_as_of(client, token, str(seq)), _graphs(nquads)), f"as-of {seq}"


def test_as_of_a_time(scene):
    twin, client, saved = scene
    token = twin.access.tokens.create(P, "reader").secret
    v = twin.history.version(P, 4)
    assert _same(_as_of(client, token, v.time), _graphs(saved[4][1]))
    assert _same(_as_of(client, token, "2000-01-01T00:00:00Z"), _graphs(saved[0][1]))


def test_diff_is_the_set_difference(scene):
    twin, client, saved = scene
    for a in range(len(saved)):
        for b in (0, 3, len(saved) - 1):
            d = twin.history.diff(P, a, b)
            assert set(d.added) == saved[b][2] - saved[a][2], (a, b)
            assert set(d.removed) == saved[a][2] - saved[b][2], (a, b)
    token = twin.access.tokens.create(P, "reader").secret
    r = client.get(f"/projects/{P}/diff", params={"from": "2", "to": "5"}, headers={"Authorization": f"Bearer {token}"})
    body = r.json()
    assert r.status_code == 200 and body["added"] == len(saved[5][2] - saved[2][2]) and body["removed"] == len(saved[2][2] - saved[5][2])
    b1 = next(e for e in body["entities"] if e["entity"] == f"{EX}b1")
    assert f"{EX}Building" in b1["types"] and f"{EX}floors" in b1["properties"]
    r = client.get(f"/projects/{P}/diff", params={"from": "2", "to": "5", "format": "patch"}, headers={"Authorization": f"Bearer {token}"})
    assert r.headers["content-type"].startswith("application/rdf-patch") and r.text.count("\nA ") == body["added"]


def test_versions_endpoints_and_access(scene):
    twin, client, saved = scene
    reader = twin.access.tokens.create(P, "reader", "analyst").secret
    r = client.get(f"/projects/{P}/versions", params={"limit": 3, "offset": 1}, headers={"Authorization": f"Bearer {reader}"})
    body = r.json()
    assert r.status_code == 200 and body["total"] == len(saved) - 1 and [v["seq"] for v in body["versions"]] == [len(saved) - 2, len(saved) - 3, len(saved) - 4]
    r = client.get(f"/projects/{P}/versions/4", headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 200 and r.json()["version"]["seq"] == 4 and r.json()["added"]
    r = client.get(f"/projects/{P}/versions/4", params={"format": "patch"}, headers={"Authorization": f"Bearer {reader}"})
    assert r.text.startswith("H id <") and "\nTC ." in r.text
    assert client.get(f"/projects/{P}/versions/999", headers={"Authorization": f"Bearer {reader}"}).status_code == 404
    assert client.get(f"/projects/{P}/versions").status_code == 401
    assert client.post(f"/projects/{P}/restore", json={"version": 1}, headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    q = client.post(f"/projects/{P}/sparql", params={"asOf": "1"}, content="INSERT DATA { <http://x/a> <http://x/b> 1 }", headers={"Authorization": f"Bearer {reader}", "Content-Type": "application/sparql-update"})
    assert q.status_code == 403
    bad = client.get(f"/projects/{P}/sparql", params={"query": "ASK {}", "asOf": "yesterday"}, headers={"Authorization": f"Bearer {reader}"})
    assert bad.status_code == 400 and "BAD_AS_OF" in bad.text


def test_restore_gives_back_the_old_dataset_as_a_new_version(scene):
    twin, client, saved = scene
    writer = twin.access.tokens.create(P, "writer", "restorer").secret
    head = twin.history.head(P)
    r = client.post(f"/projects/{P}/restore", json={"version": 3}, headers={"Authorization": f"Bearer {writer}"})
    assert r.status_code == 200, r.text
    v = r.json()["version"]
    assert v["seq"] == head + 1 and v["activity"] == "restore of version 3" and v["label"] == "restorer"
    assert _stored(twin) == saved[3][2]
    assert _same(_graphs(_export(twin)), _graphs(saved[3][1]))
    # history was not rewritten: the versions before are still there, and as-of still answers
    token = twin.access.tokens.create(P, "reader").secret
    assert _same(_as_of(client, token, str(head)), _graphs(saved[-1][1]))
    # back to the head again, one graph at a time is possible too
    twin.history.restore(P, head, graph=f"{EX}graphs/points")
    assert {q for q in _stored(twin) if "graphs/points" in q} == {q for q in saved[-1][2] if "graphs/points" in q}
    twin.history.restore(P, head)
    assert _stored(twin) == saved[-1][2]


def test_retention_drops_old_versions(tmp_path: Path):
    twin = create_twin(Settings(store="memory", data_dir=tmp_path, infer_on_change=False, history_keep_versions=3))
    twin.projects.create("r")
    for i in range(6):
        run_project_update(twin, "r", f"INSERT DATA {{ <{EX}s> <{EX}p> {i} }}")
    assert twin.history.head("r") == 6 and twin.history.baseline("r") == 3
    assert [v.seq for v in twin.history.versions("r")[0]] == [6, 5, 4]
    with pytest.raises(Exception) as e:
        twin.as_of.view("r", "2")
    assert getattr(e.value, "code", "") == "VERSION_PRUNED" and getattr(e.value, "status", 0) == 410
    assert len(twin.history.diff("r", 3, 6).added) == 3
    twin.close()
