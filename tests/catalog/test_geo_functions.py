"""GeoSPARQL functions (kg_twin.geo.functions) inside real SPARQL queries, in-process and in the
query worker processes of an on-disk store."""

from __future__ import annotations

import math

import pyproj
import pytest

from kg_twin.service import sparql_functions
from kg_twin.settings import Settings
from kg_twin.store import Dataset, QueryRequest, open_store

P = """PREFIX geof: <http://www.opengis.net/def/function/geosparql/>
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/>
PREFIX unit: <http://qudt.org/vocab/unit/>
"""
SQUARE = '"POLYGON((5.76 45.19, 5.77 45.19, 5.77 45.20, 5.76 45.20, 5.76 45.19))"^^geo:wktLiteral'
INSIDE = '"POINT(5.765 45.195)"^^geo:wktLiteral'
OUTSIDE = '"POINT(5.78 45.195)"^^geo:wktLiteral'
L93 = '"<http://www.opengis.net/def/crs/EPSG/0/2154> POINT(652469.02 6862035.26)"^^geo:wktLiteral'
LATLON = '"<http://www.opengis.net/def/crs/EPSG/0/4326> POINT(45.195 5.765)"^^geo:wktLiteral'


@pytest.fixture(scope="module")
def store() -> object:
    settings = Settings(store="memory")
    s = open_store(settings, functions=sparql_functions(settings))
    yield s
    s.close()


def one(store: object, expr: str) -> object:
    rows = store.select(P + f"SELECT ?x WHERE {{ BIND({expr} AS ?x) }}")  # type: ignore[attr-defined]
    return rows[0].get("x").toPython() if rows and "x" in rows[0] else None


@pytest.mark.parametrize(
    "expr,expected",
    [
        (f"geof:sfWithin({INSIDE}, {SQUARE})", True),
        (f"geof:sfWithin({OUTSIDE}, {SQUARE})", False),
        (f"geof:sfContains({SQUARE}, {INSIDE})", True),
        (f"geof:sfIntersects({SQUARE}, {OUTSIDE})", False),
        (f"geof:sfDisjoint({SQUARE}, {OUTSIDE})", True),
        (f"geof:sfTouches({SQUARE}, \"POLYGON((5.77 45.19, 5.78 45.19, 5.78 45.20, 5.77 45.20, 5.77 45.19))\"^^geo:wktLiteral)", True),
        (f"geof:sfEquals({SQUARE}, {SQUARE})", True),
    ],
)
def test_relations(store: object, expr: str, expected: bool) -> None:
    assert one(store, expr) is expected


def test_relations_reproject_other_crs(store: object) -> None:
    """The default relations (kg_twin.geo.relations) reproject; pyoxigraph's built-in ones
    (KG_TWIN_CRS_RELATIONS=false) leave another CRS unbound."""
    from kg_twin.geo.relations import RELATIONS
    from kg_twin.rdf import Literal

    assert one(store, f"geof:sfWithin({LATLON}, {SQUARE})") is True  # EPSG:4326 in its latitude/longitude axis order
    W = "http://www.opengis.net/ont/geosparql#wktLiteral"
    latlon = Literal("<http://www.opengis.net/def/crs/EPSG/0/4326> POINT(45.195 5.765)", W)
    square = Literal("POLYGON((5.76 45.19, 5.77 45.19, 5.77 45.20, 5.76 45.20, 5.76 45.19))", W)
    assert RELATIONS["http://www.opengis.net/def/function/geosparql/sfWithin"](latlon, square) is True
    assert len(RELATIONS) == 25  # 8 simple features + 8 Egenhofer + 8 RCC8 + relate


def test_crs_relations_setting() -> None:
    query = P + f"SELECT ?x WHERE {{ BIND(geof:sfWithin({LATLON}, {SQUARE}) AS ?x) }}"
    builtin = Settings(store="memory", crs_relations=False)
    assert "x" not in open_store(builtin, functions=sparql_functions(builtin)).select(query)[0]  # pyoxigraph's relation: CRS84 only
    aware = Settings(store="memory")
    assert open_store(aware, functions=sparql_functions(aware)).select(query)[0]["x"].toPython() is True


def test_wkt_parameters_are_bound_in_crs84() -> None:
    from kg_twin.catalog.params import Parameter

    p = Parameter.from_variable("_area_geo_wktLiteral", {})
    assert p.to_term("POINT(5.765 45.195)").value == "POINT(5.765 45.195)"
    t = p.to_term("<http://www.opengis.net/def/crs/EPSG/0/4326> POINT(45.195 5.765)")
    assert t.value == "POINT (5.765 45.195)"
    t = p.to_term("<http://www.opengis.net/def/crs/EPSG/0/2154> POINT(652469.02 6862035.26)")
    assert t.value.startswith("POINT (2.35") and not t.value.startswith("<")


def test_distance_is_geodesic_metres(store: object) -> None:
    geod = pyproj.Geod(ellps="WGS84")
    _, _, ref = geod.inv(5.765, 45.195, 5.78, 45.195)
    d = one(store, f"geof:distance({INSIDE}, {OUTSIDE}, uom:metre)")
    assert math.isclose(d, ref, rel_tol=1e-9)
    assert math.isclose(one(store, f"geof:distance({INSIDE}, {OUTSIDE})"), ref, rel_tol=1e-9)  # metres by default
    assert math.isclose(one(store, f"geof:distance({INSIDE}, {OUTSIDE}, unit:KiloM)"), ref / 1000, rel_tol=1e-9)
    # polygon to point: distance to the nearest edge (5.77 -> 5.78 along the parallel)
    _, _, edge = geod.inv(5.77, 45.195, 5.78, 45.195)
    assert math.isclose(one(store, f"geof:distance({SQUARE}, {OUTSIDE})"), edge, rel_tol=2e-3)
    assert one(store, f"geof:distance({SQUARE}, {INSIDE})") == 0.0
    # another CRS is reprojected: Paris centre (Lambert-93) to Grenoble, ~ 480 km
    assert 470_000 < one(store, f"geof:distance({L93}, {INSIDE})") < 490_000


def test_buffer_envelope_area(store: object) -> None:
    a = one(store, f"geof:area(geof:buffer({INSIDE}, 10, uom:metre))")
    assert math.isclose(a, math.pi * 100, rel_tol=0.01)
    assert one(store, f"geof:sfWithin({INSIDE}, geof:buffer({OUTSIDE}, 1200))") is True  # ~1180 m apart
    assert one(store, f"geof:sfWithin({INSIDE}, geof:buffer({OUTSIDE}, 1100))") is False
    env = one(store, f"STR(geof:envelope({SQUARE}))")
    assert env.startswith("POLYGON ((5.76 45.19")
    sq = one(store, f"geof:area({SQUARE})")
    assert 870_000 < sq < 880_000  # 0.01 x 0.01 degree at 45 N


@pytest.mark.parametrize(
    "expr",
    [
        'geof:sfWithin("POINT(1)"^^geo:wktLiteral, ' + SQUARE + ")",
        'geof:sfWithin("POINT(1 2)", ' + SQUARE + ")",  # a plain string is not a geometry
        'geof:sfWithin("<http://www.opengis.net/def/crs/EPSG/0/99999999> POINT(1 2)"^^geo:wktLiteral, ' + SQUARE + ")",
        f"geof:distance({INSIDE}, {OUTSIDE}, <http://example.org/furlong>)",
        f"geof:buffer({INSIDE}, \"far\")",
    ],
)
def test_errors_leave_the_value_unbound(store: object, expr: str) -> None:
    assert one(store, expr) is None


def test_functions_run_in_query_workers(tmp_path: object) -> None:
    settings = Settings(store="oxigraph", data_dir=tmp_path, query_workers=1, crs_relations=True)
    s = open_store(settings, functions=sparql_functions(settings))  # the workers receive the CRS-aware relations too
    try:
        s.load(f'<http://x/a> <{"http://www.opengis.net/ont/geosparql#asWKT"}> {INSIDE.replace("geo:wktLiteral", "<http://www.opengis.net/ont/geosparql#wktLiteral>")} .'.encode(), format="turtle", graph="http://g")
        res = s.query(QueryRequest(P + f"SELECT ?d WHERE {{ ?s geo:asWKT ?w BIND(geof:distance(?w, {OUTSIDE}) AS ?d) FILTER(geof:sfWithin(?w, {SQUARE})) }}",
                                   dataset=Dataset(("http://g",), ()), timeout_s=20))
        import json

        rows = json.loads(res.body)["results"]["bindings"]
        assert len(rows) == 1 and 1100 < float(rows[0]["d"]["value"]) < 1300
        res = s.query(QueryRequest(P + "SELECT (geof:aggBoundingBox(?w) AS ?b) WHERE { ?s geo:asWKT ?w }", dataset=Dataset(("http://g",), ()), timeout_s=20))
        assert json.loads(res.body)["results"]["bindings"][0]["b"]["value"] == "POINT (5.765 45.195)"  # a custom aggregate in a worker (envelope of one point)
    finally:
        s.close()
