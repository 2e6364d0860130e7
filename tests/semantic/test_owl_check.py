"""The OWL consistency check: a real owlready2 + HermiT run over the bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from kg_twin.cli.ontologies import register
from kg_twin.reasoning.owl import check_consistency

BOT = "https://w3id.org/bot#"


@pytest.fixture(scope="module")
def cache_dir(owl_cache) -> Path:
    return owl_cache[0]


@pytest.fixture(scope="module")
def full_report(owl_cache):
    return owl_cache[1]


def test_bundle_is_consistent_without_unsatisfiable_classes(full_report):
    r = full_report
    assert r.consistent is True
    assert r.unsatisfiable == []
    assert r.exit_code == 0
    modes = {m.module: m.mode for m in r.modules}
    # kgt and everything it aligns were reasoned over
    assert {"kgt", "brick", "bot", "brick-bot", "geosparql", "sosa", "dcat", "prov", "ifc"} <= set(modes)
    # owlready2 0.51 cannot load the full Brick file: its class-hierarchy extract is checked, and said so
    assert modes["brick"] == "class-hierarchy extract"
    assert "owlready2 cannot load" in next(m.reason for m in r.modules if m.module == "brick")
    assert modes["kgt"] == modes["bot"] == "full"
    brick = next(m for m in r.modules if m.module == "brick")
    assert brick.triples > 3000  # the extract really carries the hierarchy
    assert "http://www.opengis.net/ont/geosparql#wktLiteral" in r.relaxed_datatypes
    assert "HermiT" in r.reasoner


def test_result_is_cached_by_bundle_hash(full_report, cache_dir):
    again = check_consistency(cache_dir=cache_dir)
    assert again.cached is True
    assert again.bundle_hash == full_report.bundle_hash
    assert again.consistent and again.unsatisfiable == []
    assert list(cache_dir.glob("ontology-check-*.json"))


def test_wrong_alignment_makes_classes_unsatisfiable(tmp_path, cache_dir):
    bad = tmp_path / "bad-alignment.ttl"
    # bot:Space is a bot:Zone, and bot:Zone is disjoint with bot:Element
    bad.write_text(f"<{BOT}Space> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{BOT}Element> .\n")
    r = check_consistency(["bot"], cache_dir=cache_dir, extra=[bad])
    assert r.consistent is True  # no individuals: the ontology is consistent ...
    assert f"{BOT}Space" in r.unsatisfiable  # ... but bot:Space can have no instance
    assert r.exit_code == 1
    assert r.modules[-1].module == "extra:bad-alignment.ttl"


def test_contradiction_with_an_individual_is_inconsistent(tmp_path, cache_dir):
    bad = tmp_path / "contradiction.ttl"
    bad.write_text(
        f"<urn:x:thing> a <{BOT}Space>, <{BOT}Element> .\n"
    )
    r = check_consistency(["bot"], cache_dir=cache_dir, extra=[bad])
    assert r.consistent is False
    assert r.exit_code == 1


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # a group, as in kg_twin.cli.main
        pass

    register(app)
    return app


def test_cli_check_and_list(tmp_path, full_report, cache_dir):
    runner = CliRunner()
    app = _app()
    # same cache location as the data dir's cache: copy the cached report there
    data_dir = tmp_path / "data"
    (data_dir / "cache").mkdir(parents=True)
    for f in cache_dir.glob("ontology-check-*.json"):
        (data_dir / "cache" / f.name).write_bytes(f.read_bytes())
    res = runner.invoke(app, ["ontologies", "check", "--json", "--data-dir", str(data_dir)])
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout[res.stdout.index("{"):])
    assert body["consistent"] is True and body["ok"] is True

    bad = tmp_path / "bad.ttl"
    bad.write_text(f"<{BOT}Space> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{BOT}Element> .\n")
    res = runner.invoke(app, ["ontologies", "check", "-m", "bot", "-x", str(bad), "--data-dir", str(data_dir)])
    assert res.exit_code == 1, res.output
    assert f"unsatisfiable: {BOT}Space" in res.stdout

    res = runner.invoke(app, ["ontologies", "check", "-m", "nope", "--data-dir", str(data_dir)])
    assert res.exit_code == 2
    assert "UNKNOWN_ONTOLOGY_MODULE" in res.output

    res = runner.invoke(app, ["ontologies", "list", "--json"])
    assert res.exit_code == 0
    rows = {r["module"]: r for r in json.loads(res.stdout)}
    assert rows["brick"]["version"] == "1.5.0" and rows["brick"]["triples"] > 60000
    assert rows["kgt"]["triples"] > 100
