"""The spatial index: index-backed filters give exactly the plain scan's answers, the rewrite
applies where it may and only there, the tree follows the project's writes (change feed), and the
named queries and the project endpoint use it."""

from __future__ import annotations

import json
import random
from typing import Iterator

import pytest

from kg_twin.geo.prefilter import prefilter
from kg_twin.service import Twin, create_twin
from kg_twin.settings import Settings
from kg_twin.store import Dataset, QueryRequest

G = "http://www.opengis.net/ont/geosparql#"
P = """PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX geof: <http://www.opengis.net/def/function/geosparql/>
PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/>
PREFIX bot: <https://w3id.org/bot#>
"""
AREA = '"POLYGON((5.77 45.19, 5.785 45.19, 5.785 45.2, 5.77 45.2, 5.77 45.19))"^^geo:wktLiteral'
AREA_L93 = '"<http://www.opengis.net/def/crs/EPSG/0/2154> POLYGON((913000 6458000, 914500 6458000, 914500 6459500, 913000 6459500, 913000 6458000))"^^geo:wktLiteral'
POINT = '"POINT(5.78 45.2)"^^geo:wktLiteral'


def features(n: int, seed: int = 7) -> str:
    """n buildings: small squares, points or lines near Grenoble, some geometries in Lambert-93 or GML."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        x, y = 5.70 + rnd.random() * 0.15, 45.15 + rnd.random() * 0.10
        d = rnd.choice((0.0001, 0.0004, 0.002))
        kind = i % 5
        if kind == 0:
            lit = f'"POINT({x:.7f} {y:.7f})"^^<{G}wktLiteral>'
        elif kind == 1:
            lit = f'"LINESTRING({x:.7f} {y:.7f}, {x + d:.7f} {y + d:.7f})"^^<{G}wktLiteral>'
        elif kind == 2:  # GML, latitude first (EPSG:4326)
            gml = f'<gml:Point xmlns:gml=\\"http://www.opengis.net/gml/3.2\\" srsName=\\"http://www.opengis.net/def/crs/EPSG/0/4326\\"><gml:pos>{y:.7f} {x:.7f}</gml:pos></gml:Point>'
            lit = f'"{gml}"^^<{G}gmlLiteral>'
        else:
            lit = f'"POLYGON(({x:.7f} {y:.7f}, {x + d:.7f} {y:.7f}, {x + d:.7f} {y + d:.7f}, {x:.7f} {y + d:.7f}, {x:.7f} {y:.7f}))"^^<{G}wktLiteral>'
        prop = "asGML" if kind == 2 else "asWKT"
        out.append(f"<http://x/f{i}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/bot#Building> .\n<http://x/f{i}> <{G}hasDefaultGeometry> <http://x/g{i}> .\n<http://x/g{i}> <{G}{prop}> {lit} .\n")
    return "".join(out)


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    t = create_twin(Settings(store="memory", data_dir=tmp_path_factory.mktemp("geo"), query_timeout_s=30))
    t.projects.create("city")
    t.store.load(features(3000).encode(), format="ntriples", graph=t.naming.graph("city", "buildings"))
    t.notify("city")
    yield t
    t.close()


def rows(twin: Twin, text: str, bindings: dict | None = None) -> list[tuple]:
    res = twin.store.query(QueryRequest(text, dataset=twin.dataset_for(["city"]), result_format="json", bindings=bindings))
    doc = json.loads(res.body)
    return sorted(tuple(sorted((k, v["value"]) for k, v in b.items())) for b in doc["results"]["bindings"])


QUERIES = {
    "within": f"SELECT ?f ?w WHERE {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . FILTER(geof:sfWithin(?w, {AREA})) }}",
    "within-gml": f"SELECT ?f WHERE {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asGML ?w . FILTER(geof:sfWithin(?w, {AREA})) }}",
    "intersects-l93": f"SELECT ?f WHERE {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . FILTER(geof:sfIntersects(?w, {AREA_L93})) }}",
    "contains-reversed": f"SELECT ?f WHERE {{ ?f geo:hasDefaultGeometry/geo:asWKT ?w . FILTER(geof:sfContains({AREA}, ?w)) }}",
    "egenhofer": f"SELECT ?f WHERE {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . FILTER(geof:ehInside(?w, {AREA}) && isIRI(?f)) }}",
    "near": f"SELECT ?f WHERE {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . FILTER(geof:distance(?w, {POINT}, uom:metre) <= 200) }}",
    "near-km-bind": f"SELECT ?f ?d WHERE {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . BIND(geof:distance({POINT}, ?w, <http://qudt.org/vocab/unit/KiloM>) AS ?d) FILTER(?d < 0.3) }}",
    "if-or": f"SELECT ?f WHERE {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . FILTER(IF(isIRI(?f), geof:sfWithin(?w, {AREA}), geof:sfIntersects(?w, {AREA})) || geof:sfTouches(?w, {AREA})) }}",
    "nested-optional": f"SELECT ?f ?w WHERE {{ ?f a bot:Building . OPTIONAL {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . FILTER(geof:sfWithin(?w, {AREA})) }} }}",
    "bind-constant": f'SELECT ?f WHERE {{ BIND(STRDT(CONCAT("POLYGON((5.77 45.19, 5.785 45.19, 5.785 45.2, 5.77 45.2, 5.77 45.19))"), geo:wktLiteral) AS ?box) ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . FILTER(geof:sfIntersects(?w, ?box)) }}',
}
NOT_REWRITTEN = {
    "disjoint": f"SELECT ?f WHERE {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . FILTER(geof:sfDisjoint(?w, {AREA})) }}",
    "negated": f"SELECT ?f WHERE {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . FILTER(!geof:sfWithin(?w, {AREA})) }}",
    "far": f"SELECT ?f WHERE {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . FILTER(geof:distance(?w, {POINT}) > 200) }}",
    "optional-binding": f"SELECT ?f WHERE {{ ?f a bot:Building OPTIONAL {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w }} FILTER(!BOUND(?w) || geof:sfWithin(?w, {AREA})) }}",
    "pattern-dependent": f"SELECT ?f WHERE {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . ?f2 geo:hasDefaultGeometry/geo:asWKT ?w2 . FILTER(?f2 = <http://x/f3> && geof:sfIntersects(?w, ?w2)) }}",
    "service": f"SELECT ?f WHERE {{ SERVICE <http://127.0.0.1:9/sparql> {{ ?g geo:asWKT ?w . FILTER(geof:sfWithin(?w, {AREA})) }} }}",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_index_backed_filter_gives_the_scan_answer(twin: Twin, name: str) -> None:
    text = P + QUERIES[name]
    rewritten = twin.spatial.rewrite(text, ["city"])
    assert "VALUES ?w {" in rewritten, rewritten[:400]
    plain, indexed = rows(twin, text), rows(twin, rewritten)
    assert plain == indexed
    assert 0 < len(plain) < 3000 or name == "nested-optional"


@pytest.mark.parametrize("name", sorted(NOT_REWRITTEN))
def test_filters_the_index_cannot_serve_are_left_alone(twin: Twin, name: str) -> None:
    text = P + NOT_REWRITTEN[name]
    assert twin.spatial.rewrite(text, ["city"]) == text


def test_index_follows_writes_through_the_change_feed(twin: Twin) -> None:
    text = P + f"SELECT ?f WHERE {{ ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?w . FILTER(geof:sfWithin(?w, {AREA})) }}"
    before = rows(twin, twin.spatial.rewrite(text, ["city"]))
    graph = twin.naming.graph("city", "late")
    twin.store.load(f'<http://x/late> <{G}hasDefaultGeometry> <http://x/late-g> .\n<http://x/late-g> <{G}asWKT> "POINT(5.78 45.195)"^^<{G}wktLiteral> .'.encode(), format="ntriples", graph=graph)
    twin.notify("city")
    after = rows(twin, twin.spatial.rewrite(text, ["city"]))
    assert after == rows(twin, text) and len(after) == len(before) + 1
    twin.store.update(f"DROP GRAPH <{graph}>")
    twin.notify("city")
    assert rows(twin, twin.spatial.rewrite(text, ["city"])) == before


def test_named_queries_use_the_index(twin: Twin) -> None:
    from kg_twin.catalog.run import run

    builds = twin.spatial.builds
    twin.spatial.invalidate("city")
    for name, args in (("find-features-near-point", [("point", "POINT(5.78 45.2)"), ("metres", "300")]),
                       ("find-buildings-in-bbox", [("west", "5.77"), ("south", "45.19"), ("east", "5.785"), ("north", "45.2")]),
                       ("find-buildings-in-area", [("area", "POLYGON((5.77 45.19, 5.785 45.19, 5.785 45.2, 5.77 45.2, 5.77 45.19))"), ("mode", "within")])):
        spec = twin.catalog.get(name)
        plain = json.loads(run(twin, "city", spec, args).body)["results"]["bindings"]
        seen: list[str] = []
        original = twin.spatial.candidates

        def spy(projects: list[str], box: tuple) -> list[str]:
            out = original(projects, box)
            seen.append(f"{len(out)}")
            return out

        twin.spatial.candidates = spy  # type: ignore[method-assign]
        try:
            indexed = json.loads(run(twin, "city", spec, args, spatial=twin.spatial).body)["results"]["bindings"]
        finally:
            del twin.spatial.candidates
        assert seen, f"{name} did not read the index"
        assert indexed == plain and len(plain) > 0, name
    assert twin.spatial.builds == builds + 1


def test_project_endpoint_uses_the_index(twin: Twin) -> None:
    from fastapi.testclient import TestClient

    from kg_twin.api.app import create_app

    token = twin.access.tokens.create("*", "admin").secret
    text = P + QUERIES["near"]
    with TestClient(create_app(twin.settings, twin=twin)) as c:
        r = c.post("/projects/city/sparql", content=text, headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json", "Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    got = sorted(b["f"]["value"] for b in r.json()["results"]["bindings"])
    assert got == sorted(v for row in rows(twin, text) for k, v in row if k == "f")
    with TestClient(create_app(twin.settings, twin=twin)) as c:  # the federated endpoint: every readable project's tree
        r = c.post("/sparql", content=text, headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json", "Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and sorted(b["f"]["value"] for b in r.json()["results"]["bindings"]) == got
    assert "VALUES ?w" in twin.spatial.rewrite(text, ["city"])
    assert prefilter(text, lambda box: None).text == text  # no index: nothing changes


def test_too_many_candidates_leave_the_query_alone() -> None:
    text = P + QUERIES["within"]
    res = prefilter(text, lambda box: [f'"POINT({i} 0)"^^<{G}wktLiteral>' for i in range(10)], max_candidates=5)
    assert res.text == text and res.notes


def test_cli_query_answers_topology_properties(tmp_path) -> None:
    """``kg-twin query`` applies the GeoSPARQL rewrite rules too (no index in a one-shot command)."""
    from tests.cli.test_cli import kg, ok

    data = tmp_path / "f.ttl"
    data.write_text(f"""@prefix geo: <{G}> .
<http://x/a> geo:hasDefaultGeometry <http://x/a-g> . <http://x/a-g> geo:asWKT "POINT(1 1)"^^geo:wktLiteral .
<http://x/d> geo:hasDefaultGeometry <http://x/d-g> . <http://x/d-g> geo:asWKT "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"^^geo:wktLiteral .
""")
    ok(kg(tmp_path, "project", "create", "t"))
    ok(kg(tmp_path, "load", str(data), "-p", "t"))
    q = P + "SELECT ?f WHERE { ?f geo:sfWithin <http://x/d> }"
    doc = json.loads(ok(kg(tmp_path, "query", q, "-p", "t", "-f", "json")).stdout)
    assert sorted(b["f"]["value"] for b in doc["results"]["bindings"]) == ["http://x/a", "http://x/a-g", "http://x/d", "http://x/d-g"]  # a geometry is within itself
