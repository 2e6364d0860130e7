"""POST /projects/{p}/ingest on a live uvicorn server (on-disk store, real HTTP, real files)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
import rdflib
from rdflib.compare import isomorphic

import tests.ingest.standin  # noqa: F401  (registers the test-points handler in the server's process)
from kg_twin.ingest.mapping import load_mapping_text

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "pipeline"
G36 = ROOT / "tests" / "data" / "rdf" / "g36-vav-a2.ttl"
LABEL_SHAPES = (DATA / "label.shapes.ttl").read_bytes()


def graph(srv, iri: str) -> rdflib.Graph:
    buf = io.BytesIO()
    srv.twin.store.dump(buf, format="ntriples", graphs=[iri])
    return rdflib.Graph().parse(data=buf.getvalue(), format="nt")


def upload(client: httpx.Client, project: str, path: Path, *, name: str | None = None, params: dict | None = None, mapping: str | None = None, headers: dict | None = None) -> httpx.Response:
    files = [("file", (name or path.name, path.read_bytes(), "application/octet-stream"))]
    if mapping is not None:
        files.append(("mapping", ("mapping.yml", mapping.encode(), "application/yaml")))
    return client.post(f"/projects/{project}/ingest", files=files, params=params or {}, headers=headers or {})


def label_only_project(srv) -> str:
    """A project validated with the label shape only (selection: core/entity + its own shapes)."""
    from kg_twin.validation.shapes import add_project_shapes, set_project_selection

    p = srv.create_project("ing")
    set_project_selection(srv.twin.store, srv.twin.naming, p, ["core/entity"])
    add_project_shapes(srv.twin.store, srv.twin.naming, p, LABEL_SHAPES)
    return p


def test_ingest_real_rdf_file(live_server):
    p = live_server.create_project("ing")
    with live_server.client(live_server.token(p, "writer", "alice")) as c:
        r = upload(c, p, G36, params={"accept": "violations"})
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["status"] == "published" and rep["reader"] == "rdf"
    g = graph(live_server, rep["graph"])
    assert len(g) == rep["triples"] > 0
    assert len(rdflib.Graph().parse(G36, format="turtle")) <= len(g)
    # provenance names the caller's token label and the file hash
    rows = live_server.twin.store.select(
        f"""SELECT ?who WHERE {{ GRAPH <{live_server.twin.naming.graph(p, 'provenance')}> {{
            <{rep['graph']}> <http://www.w3.org/ns/prov#wasGeneratedBy> ?a .
            ?a <http://www.w3.org/ns/prov#wasAssociatedWith>/<http://www.w3.org/2000/01/rdf-schema#label> ?who ;
               <http://www.w3.org/ns/prov#used>/<https://w3id.org/kg-twin/ontology#sha256> "{rep['sha256']}" }} }}"""
    )
    assert [str(x["who"]) for x in rows] == ["token:alice"]
    # the data is queryable right away over the SPARQL protocol
    with live_server.client(live_server.token(p, "reader")) as c:
        q = c.post(f"/projects/{p}/sparql", data={"query": "ASK { ?s a <https://brickschema.org/schema/Brick#VAV> }"}, headers={"Accept": "application/sparql-results+json"})
    assert q.status_code == 200 and q.json()["boolean"] is True


def test_quarantine_422_with_report(live_server):
    p = label_only_project(live_server)
    with live_server.client(live_server.token(p, "writer")) as c:
        ok = upload(c, p, DATA / "points.csv", params={"reader": "test-points"})
        assert ok.status_code == 200, ok.text
        published = ok.json()["graph"]
        before = graph(live_server, published)
        r = upload(c, p, DATA / "points-long-label.csv", name="points.csv", params={"reader": "test-points"})
    assert r.status_code == 422
    body = r.json()
    assert body["ok"] is False and body["code"] == "SHACL_VIOLATION" and body["hint"]
    assert body["report"]["status"] == "quarantined" and body["report"]["validation"]["by_severity"] == {"Violation": 1}
    assert any("labels are 1..24 characters" in e["result"] for e in body["errors"])
    assert body["quarantine"] == live_server.twin.naming.quarantine_graph(p, "points.csv")
    assert len(graph(live_server, body["quarantine"])) == body["report"]["triples"]
    assert isomorphic(before, graph(live_server, published))
    with live_server.client(live_server.token(p, "writer")) as c:
        r2 = upload(c, p, DATA / "points-long-label.csv", name="points.csv", params={"reader": "test-points", "accept": "violations"})
        assert r2.status_code == 409 and r2.json()["code"] == "REMOVALS_NOT_ACCEPTED"  # another file: every entity would go
        r2 = upload(c, p, DATA / "points-long-label.csv", name="points.csv", params={"reader": "test-points", "accept": "violations", "accept_removals": "true"})
    assert r2.status_code == 200 and r2.json()["status"] == "published" and r2.json()["diff"]["removed"] > 0


def test_rejects_are_counted(live_server):
    p = label_only_project(live_server)
    with live_server.client(live_server.token(p, "writer")) as c:
        rep = upload(c, p, DATA / "points.csv", params={"reader": "test-points"}).json()
    assert (rep["records"], rep["mapped"], rep["rejected"]) == (7, 4, 3)
    assert [(x["origin"]["row"], x["code"]) for x in rep["rejects"]] == [(5, "CELLS"), (6, "NO_KEY"), (8, "BAD_CLASS")]


def test_dry_run_yaml_and_reviewed_mapping(live_server):
    p = label_only_project(live_server)
    with live_server.client(live_server.token(p, "writer")) as c:
        y = upload(c, p, DATA / "points.csv", params={"reader": "test-points", "dry_run": "true"}, headers={"Accept": "application/yaml"})
        assert y.status_code == 200 and y.headers["content-type"].startswith("application/yaml")
        assert load_mapping_text(y.text)["handler"] == "test-points"
        assert live_server.twin.project_graphs(p) == [live_server.twin.naming.default_graph(p)]
        direct = upload(c, p, DATA / "points.csv", params={"reader": "test-points"}).json()
        g1 = graph(live_server, direct["graph"])
        reviewed = upload(c, p, DATA / "points.csv", mapping=y.text)
        assert reviewed.status_code == 200, reviewed.text
    assert isomorphic(g1, graph(live_server, reviewed.json()["graph"]))


def test_async_job_with_progress(live_server):
    p = live_server.create_project("ing")
    tok = live_server.token(p, "writer")
    with live_server.client(tok) as c:
        r = upload(c, p, G36, params={"async": "true", "accept": "violations"})
        assert r.status_code == 202, r.text
        loc = r.headers["location"]
        assert loc == f"/projects/{p}/jobs/{r.json()['id']}"
        deadline = time.monotonic() + 60
        while True:
            job = c.get(loc).json()
            if job["status"] in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert job["status"] == "done", job
    assert job["report"]["status"] == "published" and job["report"]["triples"] > 0
    assert job["progress"]["stage"] == "done"
    assert live_server.twin.store.graph_size(job["report"]["graph"]) == job["report"]["triples"]


def test_bad_input_400_names_file_and_line(live_server):
    p = live_server.create_project("ing")
    graphs_before = sorted(g for g in live_server.twin.store.graphs() if f"/graph/{p}/" in g)
    with live_server.client(live_server.token(p, "writer")) as c:
        r = upload(c, p, DATA / "truncated.ttl", params={"reader": "rdf"})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "RDF_SYNTAX" and body["where"]["file"].endswith("truncated.ttl") and "line" in body["where"]
    assert sorted(g for g in live_server.twin.store.graphs() if f"/graph/{p}/" in g) == graphs_before


def test_roles_and_request_shape(live_server):
    p = live_server.create_project("ing")
    with live_server.client() as anon:
        assert upload(anon, p, G36).status_code == 401
    with live_server.client(live_server.token(p, "reader")) as c:
        assert upload(c, p, G36).status_code == 403
    with live_server.client(live_server.token(p, "writer")) as c:
        r = c.post(f"/projects/{p}/ingest", content=b"x", headers={"Content-Type": "text/csv"})
        assert r.status_code == 415 and r.json()["code"] == "NOT_MULTIPART"
        r = c.post(f"/projects/{p}/ingest", files=[("other", ("a.csv", b"x"))])
        assert r.status_code == 400 and r.json()["code"] == "NO_FILE"
        r = upload(c, p, G36, params={"accept": "maybe"})
        assert r.status_code == 400 and r.json()["code"] == "BAD_ACCEPT"
        assert c.get(f"/projects/{p}/jobs/nope").status_code == 404
    readers = httpx.get(f"{live_server.url}/ingest/readers").json()["readers"]
    assert {"rdf", "table", "shapefile", "ifc", "document"} <= {x["name"] for x in readers}
