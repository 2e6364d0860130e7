"""`kg-twin ingest` end to end, as a user runs it (subprocess, on-disk store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "pipeline"
COMMUNE = ROOT / "examples" / "olemps" / "COMMUNE.zip"
SHAPES = str(DATA / "label.shapes.ttl")

pytestmark = pytest.mark.slow  # ~50 s: every call is a fresh process (imports, ontology closure)


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("cli")
    env = {**os.environ, "KG_TWIN_DATA_DIR": str(data_dir), "KG_TWIN_INGEST_HANDLERS": "tests.ingest.standin", "PYTHONPATH": str(ROOT)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kg_twin", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    assert run("project", "create", "cli").returncode == 0
    run.data_dir = data_dir  # type: ignore[attr-defined]
    return run


def export(cli) -> rdflib.Dataset:
    r = cli("export", "-p", "cli", "-f", "nquads")
    assert r.returncode == 0, r.stderr
    return r.stdout


def graph_from_export(nq: str, graph: str) -> rdflib.Graph:
    g = rdflib.Graph()
    lines = [ln.rsplit(" ", 2)[0] + " ." for ln in nq.splitlines() if ln.endswith(f"<{graph}> .")]
    g.parse(data="\n".join(lines), format="nt")
    return g


def test_ingest_real_shapefile_published(cli):
    r = cli("ingest", str(COMMUNE), "-p", "cli", "--accept-violations", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)[0]
    assert rep["status"] == "published" and rep["reader"] == "shapefile"
    assert rep["records"] == rep["mapped"] + rep["rejected"] == 1
    assert rep["graph"].endswith("/graph/cli/commune.zip")
    g = graph_from_export(export(cli), rep["graph"])
    assert len(g) == rep["triples"] > 0
    assert (None, rdflib.RDF.type, rdflib.URIRef("http://www.opengis.net/ont/geosparql#Feature")) in g
    assert "commune.zip" in r.stderr and "triples" in r.stderr


def test_dry_run_then_mapping_gives_same_graph(cli, tmp_path):
    direct = cli("ingest", str(DATA / "points.csv"), "-p", "cli", "--reader", "test-points", "--shapes", SHAPES, "--json")
    assert direct.returncode == 0, direct.stderr
    graph = json.loads(direct.stdout)[0]["graph"]
    g1 = graph_from_export(export(cli), graph)

    dry = cli("ingest", str(DATA / "points.csv"), "-p", "cli", "--reader", "test-points", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("# kg-twin ingest mapping") and "confidence:" in dry.stdout
    mfile = tmp_path / "points.mapping.yml"
    mfile.write_text(dry.stdout)

    reviewed = cli("ingest", str(DATA / "points.csv"), "-p", "cli", "--mapping", str(mfile), "--shapes", SHAPES, "--json")
    assert reviewed.returncode == 0, reviewed.stderr
    rep = json.loads(reviewed.stdout)[0]
    assert rep["reader"] == "test-points" and rep["rejected"] == 3 and "rejected points.csv row 5: [CELLS]" in reviewed.stderr
    assert isomorphic(g1, graph_from_export(export(cli), graph))


def test_violations_exit_1_and_keep_published_graph(cli):
    ok = cli("ingest", str(DATA / "points.csv"), "-p", "cli", "--reader", "test-points", "--shapes", SHAPES, "--graph", "q", "--json")
    assert ok.returncode == 0, ok.stderr
    graph = json.loads(ok.stdout)[0]["graph"]
    before = graph_from_export(export(cli), graph)
    bad = cli("ingest", str(DATA / "points-long-label.csv"), "-p", "cli", "--reader", "test-points", "--shapes", SHAPES, "--graph", "q", "--json")
    assert bad.returncode == 1, bad.stderr
    rep = json.loads(bad.stdout)[0]
    assert rep["status"] == "quarantined" and rep["quarantine"].endswith("/_quarantine/q")
    assert "quarantined" in bad.stderr and "labels are 1..24 characters" in bad.stderr
    assert isomorphic(before, graph_from_export(export(cli), graph))


def test_bad_file_exit_2_project_unchanged(cli):
    before = export(cli)
    r = cli("ingest", str(DATA / "truncated.ttl"), "-p", "cli")
    assert r.returncode == 2
    assert "truncated.ttl" in r.stderr and "RDF_SYNTAX" in r.stderr
    after = export(cli)
    assert sorted(before.splitlines()) == sorted(after.splitlines())


def test_unknown_project_and_mapping_errors(cli, tmp_path):
    r = cli("ingest", str(DATA / "points.csv"), "-p", "nope", "--reader", "test-points")
    assert r.returncode == 2 and "PROJECT_NOT_FOUND" in r.stderr
    bad = tmp_path / "m.yml"
    bad.write_text("handler: [unclosed\n")
    r = cli("ingest", str(DATA / "points.csv"), "-p", "cli", "--mapping", str(bad))
    assert r.returncode == 2 and "MAPPING_SYNTAX" in r.stderr and "m.yml" in r.stderr
