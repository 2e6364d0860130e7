"""The demo territory is built through the ingest pipeline (kg_twin.demo.load_demo)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import kg_twin.demo as demo
from kg_twin.service import create_twin
from kg_twin.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_demo_subset_skips_clearly_and_is_idempotent(tmp_path, monkeypatch):
    root = tmp_path / "examples"
    for rel in ("building/smallOffice_brick.ttl", "olemps/COMMUNE.zip"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLES / rel, root / rel)
    (root / "building" / "plan.xyz").write_text("not a format anyone reads")
    monkeypatch.setattr(demo, "MANIFEST", demo.MANIFEST + [("building/plan.xyz", "no-such-reader")])
    twin = create_twin(Settings(store="memory", data_dir=tmp_path / "d"))
    try:
        res = demo.load_demo(twin, root=root, quiet=True)
        assert {r["file"] for r in res.loaded} == {"building/smallOffice_brick.ttl", "olemps/COMMUNE.zip"}
        assert all(r["status"] == "published" and r["triples"] > 0 for r in res.loaded)
        skipped = {s["file"]: s["reason"] for s in res.skipped}
        assert "not installed" in skipped["building/plan.xyz"]
        assert "missing" in skipped["building/Duplex_A.ifc"]
        assert not res.failed
        assert twin.projects.get("demo").public
        graphs = twin.project_graphs("demo")
        assert twin.naming.graph("demo", "smalloffice_brick.ttl") in graphs and twin.naming.graph("demo", "commune.zip") in graphs
        again = demo.load_demo(twin, root=root, quiet=True)
        assert not again.loaded and sorted(again.unchanged) == sorted(r["file"] for r in res.loaded)
    finally:
        twin.close()


@pytest.mark.slow
def test_full_demo_links_documents(tmp_path):
    twin = create_twin(Settings(data_dir=tmp_path))
    try:
        res = demo.load_demo(twin, quiet=True)
        assert not res.failed and not res.skipped, res.lines()
        assert len(res.loaded) == len(demo.MANIFEST)
        rows = twin.store.select(
            "SELECT ?doc ?label WHERE { ?doc <http://purl.org/dc/terms/subject> ?x . ?x <http://www.w3.org/2000/01/rdf-schema#label> ?label }",
            dataset=twin.dataset_for(["demo"]),
        )
        assert {str(r["label"]) for r in rows} == {"tstat2", "tstat3"}
    finally:
        twin.close()
