"""Case folders: tests/cases/<handler>/<name>/{input.*, mapping.yml, expected.ttl}.

Each case maps ``input.*`` with ``mapping.yml`` (handler = the folder name) and compares the
triples with ``expected.ttl`` by graph isomorphism. Adding a case = adding a folder.
Rejects, if any are expected, are listed in ``rejects.txt`` (one ``row code`` per line).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
import yaml
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

import kg_twin.ingest.mappers.haystack  # noqa: F401  (registers the handler)
import kg_twin.ingest.mappers.rdf  # noqa: F401
import kg_twin.ingest.mappers.table  # noqa: F401
from kg_twin.ingest.base import HANDLERS, MapContext
from kg_twin.terms import Naming

from .helpers import split, to_graph

CASES = Path(__file__).resolve().parents[1] / "cases"
HANDLED = {"table", "haystack", "rdf"}
FOLDERS = sorted(p for p in CASES.glob("*/*") if p.is_dir() and p.parent.name in HANDLED)


@pytest.mark.parametrize("case", FOLDERS, ids=[f"{p.parent.name}/{p.name}" for p in FOLDERS])
def test_case(case: Path):
    handler = HANDLERS[case.parent.name]
    (inp,) = sorted(case.glob("input.*"))
    mapping = yaml.safe_load((case / "mapping.yml").read_text())
    ctx = MapContext(Naming("http://twin.test/"), "demo", f"http://twin.test/source/demo/{case.name}", inp.name)
    items = list(handler.read(inp))
    triples, rejects = split(handler.map(items, mapping, ctx))
    got = to_graph(triples)
    expected = rdflib.Graph().parse(case / "expected.ttl")
    if not isomorphic(got, expected):
        _, only_got, only_exp = graph_diff(to_isomorphic(got), to_isomorphic(expected))
        pytest.fail(
            "graphs differ\nonly in output:\n" + only_got.serialize(format="nt") + "\nonly expected:\n" + only_exp.serialize(format="nt")
        )
    want = (case / "rejects.txt").read_text().split("\n") if (case / "rejects.txt").exists() else []
    assert sorted(f"{r.origin.row} {r.code}" for r in rejects) == sorted(w for w in want if w.strip())
