"""Entry points: `kg-twin validate` (files and project), validate_graphs on the store (what
ingest calls on a staging graph), project shape selection, and POST /projects/{p}/validate."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import rdflib
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from kg_twin.cli.main import app
from kg_twin.validation import validate_files, validate_graphs
from kg_twin.validation.shapes import (
    add_project_shapes,
    get_project_selection,
    load_shapes,
    set_project_selection,
)

SHAPES = Path(__file__).resolve().parents[2] / "shapes"
DATA = Path(__file__).resolve().parents[1] / "data" / "shapes"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
runner = CliRunner()


def test_cli_files_conforming_exit_0():
    r = runner.invoke(app, ["validate", "--data", str(DATA / "bot-topology.pass.ttl"), "--shapes", str(SHAPES / "bot" / "topology.shapes.ttl")])
    assert r.exit_code == 0, r.output
    assert "Conforms: True" in r.stdout


def test_cli_files_violations_exit_1_json_summary():
    r = runner.invoke(app, ["validate", "-d", str(DATA / "bot-topology.fail.ttl"), "--shape-set", "bot/topology", "--format", "json"])
    assert r.exit_code == 1, r.output
    summary = json.loads(r.stdout)
    assert summary["conforms"] is False and summary["total"] == 4
    assert summary["engine"] == "kgtwin"
    assert summary["engines"] == {"kgt-sh:SpaceInStoreyShape": "kgtwin", "kgt-sh:StoreyInBuildingShape": "kgtwin"}


def test_cli_turtle_report_is_the_same_graph_for_both_engines(tmp_path):
    args = ["validate", "-d", str(DATA / "sosa-observation.fail.ttl"), "--shape-set", "sosa/observation", "--format", "turtle"]
    ours = runner.invoke(app, args)
    ref = runner.invoke(app, args + ["--engine", "pyshacl"])
    assert ours.exit_code == ref.exit_code == 1
    g1 = rdflib.Graph().parse(data=ours.stdout, format="turtle")
    g2 = rdflib.Graph().parse(data=ref.stdout, format="turtle")
    for g in (g1, g2):  # messages are engine-specific wording only when a shape has none
        g.remove((None, SH.resultMessage, None))
    assert isomorphic(g1, g2)


def test_cli_json_ld_and_output_file(tmp_path):
    out = tmp_path / "report.jsonld"
    r = runner.invoke(app, ["validate", "-d", str(DATA / "dcat-document.fail.ttl"), "--shape-set", "dcat/document", "-f", "json-ld", "-o", str(out)])
    assert r.exit_code == 1
    g = rdflib.Graph().parse(out, format="json-ld")
    assert len(list(g.subjects(rdflib.RDF.type, SH.ValidationResult))) == 3


def test_cli_errors_exit_2(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("<a> <b> .")
    assert runner.invoke(app, ["validate", "-d", str(bad), "--shape-set", "bot/topology"]).exit_code == 2
    assert runner.invoke(app, ["validate", "-d", str(DATA / "bot-topology.pass.ttl")]).exit_code == 2  # no shapes
    assert runner.invoke(app, ["validate", "-d", str(DATA / "bot-topology.pass.ttl"), "--shape-set", "nope/nope"]).exit_code == 2
    r = runner.invoke(app, ["validate", "-d", str(DATA / "bot-topology.pass.ttl"), "--shape-set", "bot/topology", "--engine", "fast"])
    assert r.exit_code == 2 and "BAD_ENGINE" in r.stderr


def test_cli_lists_shape_sets():
    r = runner.invoke(app, ["validate", "--list-shape-sets"])
    assert r.exit_code == 0
    assert "brick/points" in r.stdout and "geo/feature" in r.stdout


def _project_with_data(twin):
    twin.projects.create("site")
    g = twin.naming.graph("site", "topology")
    twin.store.load((DATA / "bot-topology.fail.ttl").read_bytes(), format="turtle", graph=g)
    return g


def test_validate_graphs_on_the_store(twin):
    g = _project_with_data(twin)
    report, summary = validate_graphs(twin.store, [g], load_shapes(["bot/topology"]), format="turtle")  # closure: the bundle
    assert summary.total == 4 and not summary.conforms
    rg = rdflib.Graph().parse(data=report, format="turtle")
    assert len(list(rg.subjects(rdflib.RDF.type, SH.ValidationResult))) == 4
    # same answer as validating the file itself
    assert validate_files([DATA / "bot-topology.fail.ttl"], [], shapes=load_shapes(["bot/topology"])).summary.total == 4


def test_ontology_triples_are_never_data(twin):
    """Brick in the closure gives the hierarchy; its classes are not focus nodes."""
    from kg_twin.store.view import ShaclView
    from kg_twin.validation.shapes import brick_ontology_file
    from kg_twin.validation.validator import validate_view

    view = ShaclView.empty()
    view.load_file(DATA / "brick-points.pass.ttl")
    view.add_closure_file(brick_ontology_file())
    shapes = rdflib.Graph().parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:s> a sh:NodeShape ; sh:targetSubjectsOf <http://www.w3.org/2000/01/rdf-schema#subClassOf> ; sh:nodeKind sh:Literal .
        <urn:t> a sh:NodeShape ; sh:targetClass <https://brickschema.org/schema/Brick#Point> ; sh:nodeKind sh:Literal .""", format="turtle")
    out = validate_view(view, shapes)
    # no ontology class is a focus node; the three points (Brick subclasses) are
    assert sorted(str(r.focus).rsplit("/", 1)[-1] for r in out.results) == ["cmd>", "sat>", "sp>"]
    assert view.size() == 9


def test_project_selection_and_own_shapes(twin):
    g = _project_with_data(twin)
    n = twin.naming
    assert get_project_selection(twin.store, n, "site") is None
    set_project_selection(twin.store, n, "site", ["bot/topology"])
    assert get_project_selection(twin.store, n, "site") == ["bot/topology"]
    add_project_shapes(twin.store, n, "site", b"""@prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix bot: <https://w3id.org/bot#> .
        <https://example.org/shapes#BuildingHasStorey> a sh:NodeShape ; sh:targetClass bot:Building ;
          sh:property [ sh:path bot:hasStorey ; sh:minCount 2 ] .""")
    from kg_twin.validation.validator import validate_project

    out = validate_project(twin, "site", closure_files=[])
    assert g in out.stats["graphs"]
    assert n.graph("site", "_shapes") not in out.stats["graphs"]  # the project's shapes are not data
    comps = sorted(r.component.rsplit("#", 1)[-1] for r in out.results)
    assert comps.count("MinCountConstraintComponent") == 2 + 3  # two from the library; three buildings with < 2 storeys
    set_project_selection(twin.store, n, "site", None)
    assert get_project_selection(twin.store, n, "site") is None


def test_rest_validate(live_server):
    p = live_server.create_project("val")
    live_server.put_graph(p, "topology", (DATA / "bot-topology.fail.ttl").read_text())
    tok = live_server.token(p, "reader")
    with live_server.client(tok) as c:
        shapes = (SHAPES / "bot" / "topology.shapes.ttl").read_text()
        r = c.post(f"/projects/{p}/validate", content=shapes, headers={"Content-Type": "text/turtle", "Accept": "application/json"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert body["total"] == 4 and body["conforms"] is False
        assert r.headers["x-conforms"] == "false"
        r = c.post(f"/projects/{p}/validate", json={"shape_sets": ["bot/topology"]}, headers={"Accept": "text/turtle"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
        g = rdflib.Graph().parse(data=r.text, format="turtle")
        assert len(list(g.subjects(rdflib.RDF.type, SH.ValidationResult))) == 4
        r = c.post(f"/projects/{p}/validate", json={"shape_sets": ["bot/topology"]}, headers={"Accept": "application/ld+json"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
        r = c.post(f"/projects/{p}/validate", content=b"not turtle", headers={"Content-Type": "text/turtle"})
        assert r.status_code == 400 and r.json()["code"] == "RDF_SYNTAX"
        r = c.post(f"/projects/{p}/validate", json={"shape_sets": ["bot/topology"]}, headers={"Accept": "image/png"})
        assert r.status_code == 406
    r = httpx.post(f"{live_server.url}/projects/{p}/validate")
    assert r.status_code in (401, 403, 404)
