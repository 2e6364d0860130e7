"""The demo's named queries and the README's queries give the same answers before and after inference
(issue 12: inferred triples never double a count, and never change what an analyst's query returns)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import kg_twin.demo as demo
from kg_twin.api.app import create_app
from kg_twin.reasoning.infer import infer_project
from kg_twin.service import create_twin
from kg_twin.settings import Settings

BRICK = "https://brickschema.org/schema/Brick#"
# the README's and docs' own examples, as counts (their LIMITs pick arbitrary rows)
README = {
    "points": f"SELECT (COUNT(*) AS ?n) {{ ?p a <{BRICK}Point> }}",
    "types": "SELECT (COUNT(*) AS ?n) { ?s a ?type }",
    "labels": "SELECT (COUNT(*) AS ?n) { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }",
    "per graph": "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
}
# queries whose answer is meant to grow with inference: name -> reason. Growing means new rows only:
# a row already answered before inference is answered exactly as often after it (nothing doubles).
GROWS: dict[str, str] = {
    "readme: points": "the demo types its points with Brick sub classes only; brick:Point comes from the hierarchy",
    "readme: types": "every instance also gets the super classes of its classes",
    "find-stale-sensors": "its rows are (sensor, class) pairs: inference adds each sensor's super classes; the sensors listed stay the same",
}


def _rows(body: bytes) -> Counter[str]:
    doc = json.loads(body)
    if "boolean" in doc:
        return Counter([str(doc["boolean"])])
    return Counter(json.dumps(b, sort_keys=True) for b in doc["results"]["bindings"])


def _answers(c: TestClient, names: list[str], examples: dict[str, str]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    h = {"Accept": "application/sparql-results+json"}
    for name in names:
        r = c.get(examples[name], headers=h)
        assert r.status_code == 200, (name, r.text)
        out[name] = _rows(r.content)
    for key, q in README.items():
        r = c.get("/projects/demo/sparql", params={"query": q}, headers=h)
        assert r.status_code == 200, (key, r.text)
        out["readme: " + key] = _rows(r.content)
    return out


@pytest.mark.slow
def test_demo_answers_are_the_same_after_inference(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, infer_on_change=False, store="oxigraph")
    twin = create_twin(settings)
    try:
        res = demo.load_demo(twin, quiet=True)
        assert not res.failed, res.lines()
        with TestClient(create_app(settings, twin=twin)) as c:
            cat = c.get("/projects/demo/queries").json()
            entries: list[dict[str, Any]] = cat["queries"] if isinstance(cat, dict) else cat
            examples = {e["name"]: e["example"] for e in entries if "{" not in e["example"]}
            assert len(examples) >= 8, sorted(examples)
            before = _answers(c, sorted(examples), examples)
            stats = infer_project(twin.store, twin.naming, "demo")
            assert twin.store.graph_size(twin.naming.inferred_graph("demo")) > 0, stats
            after = _answers(c, sorted(examples), examples)
        changed = {k for k in before if before[k] != after[k] and k not in GROWS}
        assert not changed, {k: (sorted(before[k])[:3], sorted(after[k])[:3]) for k in changed}
        for k in GROWS:
            assert after[k] != before[k], f"{k}: expected to grow with inference"
        # the stale sensors themselves, each once, are the same
        sensors = [{json.loads(r)["sensor"]["value"] for r in x["find-stale-sensors"]} for x in (before, after)]
        assert sensors[0] and sensors[0] == sensors[1]
        assert after["find-stale-sensors"].most_common(1)[0][1] == 1  # no row twice
    finally:
        twin.close()
