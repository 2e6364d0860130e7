"""GeoSPARQL 1.0 / 1.1 functions for SPARQL queries, computed with shapely (GEOS) and pyproj.

The composition root passes :data:`FUNCTIONS` (and :data:`kg_twin.geo.relations.RELATIONS`) to the
store (:func:`kg_twin.service.sparql_functions`), so they work in every query (the SPARQL endpoints,
the query catalogue, the CLI), in the query worker processes too. The requirement-by-requirement
table is docs/geosparql.md. Behaviour:

* Arguments are ``geo:wktLiteral`` (optional ``<CRS IRI>`` prefix; none = CRS84 lon/lat) or
  ``geo:gmlLiteral`` (``srsName``), in any EPSG CRS, with the CRS's own axis order (lat/lon for
  EPSG:4326). Z/M coordinates are dropped for the computations (``is3D``, ``isMeasured``,
  ``minZ``/``maxZ`` read them).
* A function of two geometries works in the CRS of the first (the second is reprojected); a
  geometry result is in that CRS and has the datatype of the first argument (WKT or GML).
* Measures (``distance``, ``buffer``, ``area``, ``length``, ``perimeter``, the ``metric*`` ones) follow
  :mod:`kg_twin.geo.metric`: planar in a projected CRS, on the WGS84 ellipsoid in a geographic one.
  The unit arguments are OGC ``uom:`` or QUDT unit IRIs; without one: metres (square metres).
* Bad input (malformed literal, unknown CRS or unit) makes the function fail, which in SPARQL leaves
  the expression unbound (a FILTER on it is false).

>>> from kg_twin.rdf import Literal
>>> W = "http://www.opengis.net/ont/geosparql#wktLiteral"
>>> round(distance(Literal("POINT(2.35 48.85)", W), Literal("POINT(2.36 48.85)", W)))
734
>>> convex_hull(Literal("MULTIPOINT((0 0), (1 0), (0 1))", W)).value
'POLYGON ((0 0, 0 1, 1 0, 0 0))'
>>> get_srid(Literal("<http://www.opengis.net/def/crs/EPSG/0/2154> POINT(1 2)", W)).value
'http://www.opengis.net/def/crs/EPSG/0/2154'
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable

import shapely
from shapely.geometry.base import BaseGeometry

from kg_twin.geo import metric
from kg_twin.geo.literals import (
    CRS84_IRI,
    GML_LITERAL,
    WKT_LITERAL,
    Geom,
    crs_iri_of,
    crs_key,
    from_term,
    literal_of,
    parse_wkt as parse_wkt_literal,
    to_geojson,
    to_gml,
    to_kml,
    to_wkt,
)
from kg_twin.rdf import IRI, Literal

GEOF = "http://www.opengis.net/def/function/geosparql/"
SF = "http://www.opengis.net/ont/sf#"
XSD = "http://www.w3.org/2001/XMLSchema#"
GEO = "http://www.opengis.net/ont/geosparql#"
ANY_URI = XSD + "anyURI"
METRE = metric.UOM + "metre"
SQUARE_METRE = metric.QUDT + "M2"
_PREFIX_RE = re.compile(r"^\s*<([^>\s]+)>\s*(.*)$", re.DOTALL)


# ------------------------------------------------------------------ helpers used elsewhere
@lru_cache(maxsize=16384)
def parse_wkt(text: str) -> BaseGeometry:
    """A WKT literal's lexical form -> 2D shapely geometry in CRS84 (ValueError if malformed)."""
    g = parse_wkt_literal(text).crs84()
    shapely.prepare(g)
    return g


def geometry(term: Any) -> BaseGeometry:
    """A SPARQL argument -> shapely geometry in CRS84; ValueError unless a geometry literal."""
    return from_term(term).crs84()


def wkt_literal(geom: BaseGeometry) -> Literal:
    return Literal(shapely.to_wkt(geom, rounding_precision=9, trim=True), WKT_LITERAL)


def to_crs84_wkt(text: str) -> str:
    """A WKT literal's text in CRS84 without a CRS prefix (unchanged when it already is)."""
    if not _PREFIX_RE.match(text):
        parse_wkt(text)  # validate
        return text.strip()
    return shapely.to_wkt(parse_wkt(text), rounding_precision=9, trim=True)


def distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """Minimum distance in metres between two CRS84 geometries."""
    return metric.distance_m(Geom(a), Geom(b))


def buffer_m(a: BaseGeometry, radius_m: float) -> BaseGeometry:
    """A CRS84 geometry grown by ``radius_m`` metres (CRS84)."""
    return metric.buffer(Geom(a), radius_m, METRE).geom


def _unit(term: Any, default: str) -> str:
    if term is None:
        return default
    if not isinstance(term, (IRI, Literal)):
        raise ValueError(f"unsupported unit {term!r}")
    return metric.unit_iri(term)


def _number(term: Any) -> float:
    if not isinstance(term, Literal):
        raise ValueError("a number is expected")
    return float(term.value)


def _dt(term: Any) -> str:
    return GML_LITERAL if getattr(term, "datatype", None) == GML_LITERAL else WKT_LITERAL


def _result(g: BaseGeometry, like: Geom, term: Any) -> Literal:
    return literal_of(Geom(shapely.force_2d(g), like.crs), _dt(term))


def _binary(a: Any, b: Any) -> tuple[Geom, BaseGeometry]:
    ga = from_term(a)
    return ga, from_term(b).in_crs(ga.crs).geom


# ------------------------------------------------------------------ measures
def distance(a: Any, b: Any, unit: Any = None) -> float:
    """``geof:distance``: minimum distance in ``unit`` (default metre)."""
    return metric.distance(from_term(a), from_term(b), _unit(unit, METRE))


def metric_distance(a: Any, b: Any) -> float:
    return metric.distance_m(from_term(a), from_term(b))


def buffer(a: Any, radius: Any, unit: Any = None) -> Literal:
    """``geof:buffer``: ``a`` grown by ``radius`` in ``unit`` (default metre), in ``a``'s CRS."""
    ga = from_term(a)
    return literal_of(metric.buffer(ga, _number(radius), _unit(unit, METRE)), _dt(a))


def metric_buffer(a: Any, radius: Any) -> Literal:
    return buffer(a, radius)


def area(a: Any, unit: Any = None) -> float:
    """``geof:area``: area in ``unit`` (default square metre)."""
    return metric.area(from_term(a), _unit(unit, SQUARE_METRE))


def metric_area(a: Any) -> float:
    return metric.area_m2(from_term(a))


def length(a: Any, unit: Any = None) -> float:
    return metric.length(from_term(a), _unit(unit, METRE))


def metric_length(a: Any) -> float:
    return metric.length_m(from_term(a))


def perimeter(a: Any, unit: Any = None) -> float:
    return metric.length(from_term(a), _unit(unit, METRE), perimeter=True)


def metric_perimeter(a: Any) -> float:
    return metric.perimeter_m(from_term(a))


# ------------------------------------------------------------------ geometry results
class _Unary:
    """A function of one geometry giving a geometry in the same CRS (module-level class: picklable)."""

    def __init__(self, op: Callable[[BaseGeometry], BaseGeometry]) -> None:
        self.op = op

    def __call__(self, a: Any) -> Literal:
        g = from_term(a)
        return _result(self.op(g.geom), g, a)


class _Binary:
    def __init__(self, op: Callable[[BaseGeometry, BaseGeometry], BaseGeometry]) -> None:
        self.op = op

    def __call__(self, a: Any, b: Any) -> Literal:
        ga, gb = _binary(a, b)
        return _result(self.op(ga.geom, gb), ga, a)


convex_hull = _Unary(shapely.convex_hull)
envelope = _Unary(shapely.envelope)
boundary = _Unary(shapely.boundary)
centroid = _Unary(shapely.centroid)
bounding_circle = _Unary(shapely.minimum_bounding_circle)
intersection = _Binary(shapely.intersection)
union = _Binary(shapely.union)
difference = _Binary(shapely.difference)
sym_difference = _Binary(shapely.symmetric_difference)


def concave_hull(a: Any, ratio: Any = None) -> Literal:
    """``geof:concaveHull``: GEOS concave hull with ``ratio`` in [0, 1] (default 0.5)."""
    g = from_term(a)
    r = _number(ratio) if ratio is not None else 0.5
    if not 0 <= r <= 1:
        raise ValueError("the ratio must be between 0 and 1")
    return _result(shapely.concave_hull(g.geom, ratio=r), g, a)


def geometry_n(a: Any, n: Any) -> Literal:
    """``geof:geometryN``: the n-th (1-based) geometry of a collection."""
    g = from_term(a)
    i = int(_number(n))
    parts = list(g.geom.geoms) if hasattr(g.geom, "geoms") else [g.geom]
    if not 1 <= i <= len(parts):
        raise ValueError("no such geometry")
    return _result(parts[i - 1], g, a)


def transform(a: Any, crs: Any) -> Literal:
    """``geof:transform``: ``a`` in CRS ``crs`` (an IRI), same datatype."""
    target = crs_iri_of(crs_key(metric.unit_iri(crs)))
    return literal_of(from_term(a).in_crs(target), _dt(a))


# ------------------------------------------------------------------ properties of one geometry
def get_srid(a: Any) -> Literal:
    """``geof:getSRID``: the CRS IRI (``xsd:anyURI``)."""
    return Literal(from_term(a).crs, ANY_URI)


_SF_TYPES = {"Point": "Point", "LineString": "LineString", "LinearRing": "LinearRing", "Polygon": "Polygon", "MultiPoint": "MultiPoint",
             "MultiLineString": "MultiLineString", "MultiPolygon": "MultiPolygon", "GeometryCollection": "GeometryCollection"}


def geometry_type(a: Any) -> Literal:
    """``geof:geometryType``: the Simple Features class IRI (``xsd:anyURI``), e.g. ``sf:Polygon``."""
    return Literal(SF + _SF_TYPES[from_term(a).geom.geom_type], ANY_URI)


def dimension(a: Any) -> int:
    """``geof:dimension``: topological dimension (0 point, 1 curve, 2 surface; -1 empty)."""
    g = from_term(a).geom
    return -1 if g.is_empty else int(shapely.get_dimensions(g))


_ZM_RE = re.compile(r"^\s*(?:<[^>]*>\s*)?[A-Za-z]+\s*(ZM|Z|M)\b", re.I)


def _zm(a: Any) -> str:
    """``""``, ``Z``, ``M`` or ``ZM`` of a literal's coordinates."""
    if getattr(a, "datatype", None) == GML_LITERAL:
        from_term(a)
        m = re.search(r'srsDimension="(\d)"', a.value)
        return "Z" if m and m.group(1) == "3" else ""
    m = _ZM_RE.match(a.value)
    if m:
        return m.group(1).upper()
    from_term(a)
    raw = shapely.from_wkt(_PREFIX_RE.sub(r"\2", a.value).strip())
    return "Z" if shapely.has_z(raw) else ""


def coordinate_dimension(a: Any) -> int:
    return 2 + len(_zm(a))


def spatial_dimension(a: Any) -> int:
    return 3 if "Z" in _zm(a) else 2


def is_3d(a: Any) -> bool:
    return "Z" in _zm(a)


def is_measured(a: Any) -> bool:
    return "M" in _zm(a)


def is_empty(a: Any) -> bool:
    return bool(from_term(a).geom.is_empty)


def is_simple(a: Any) -> bool:
    return bool(shapely.is_simple(from_term(a).geom))


def num_geometries(a: Any) -> int:
    return int(shapely.get_num_geometries(from_term(a).geom))


class _Bound:
    """``geof:minX`` ... in the geometry's own CRS."""

    def __init__(self, index: int) -> None:
        self.index = index

    def __call__(self, a: Any) -> float:
        g = from_term(a).geom
        if g.is_empty:
            raise ValueError("empty geometry")
        return float(shapely.bounds(g)[self.index])


class _ZBound:
    def __init__(self, take_max: bool) -> None:
        self.take_max = take_max

    def __call__(self, a: Any) -> float:
        if "Z" not in _zm(a) or a.datatype != WKT_LITERAL:
            raise ValueError("the geometry has no Z coordinates")
        raw = shapely.from_wkt(_PREFIX_RE.sub(r"\2", a.value).strip())
        z = shapely.get_coordinates(raw, include_z=True)[:, 2]
        return float(z.max() if self.take_max else z.min())


# ------------------------------------------------------------------ serialisations
def as_wkt(a: Any) -> Literal:
    return Literal(to_wkt(from_term(a)), WKT_LITERAL)


def as_gml(a: Any, profile: Any = None) -> Literal:
    return Literal(to_gml(from_term(a)), GML_LITERAL)


def as_geojson(a: Any) -> Literal:
    return Literal(to_geojson(from_term(a)), GEO + "geoJSONLiteral")


def as_kml(a: Any) -> Literal:
    return Literal(to_kml(from_term(a)), GEO + "kmlLiteral")


# The non-topological functions, for the store's extension table (see kg_twin.service.sparql_functions);
# the topological ones are kg_twin.geo.relations.RELATIONS.
FUNCTIONS: dict[str, Any] = {
    GEOF + name: fn
    for name, fn in {
        "distance": distance, "buffer": buffer, "area": area, "length": length, "perimeter": perimeter,
        "metricDistance": metric_distance, "metricBuffer": metric_buffer, "metricArea": metric_area,
        "metricLength": metric_length, "metricPerimeter": metric_perimeter,
        "convexHull": convex_hull, "concaveHull": concave_hull, "envelope": envelope, "boundary": boundary,
        "centroid": centroid, "boundingCircle": bounding_circle,
        "intersection": intersection, "union": union, "difference": difference, "symDifference": sym_difference,
        "geometryN": geometry_n, "transform": transform, "getSRID": get_srid, "geometryType": geometry_type,
        "dimension": dimension, "coordinateDimension": coordinate_dimension, "spatialDimension": spatial_dimension,
        "is3D": is_3d, "isMeasured": is_measured, "isEmpty": is_empty, "isSimple": is_simple,
        "numGeometries": num_geometries,
        "minX": _Bound(0), "minY": _Bound(1), "maxX": _Bound(2), "maxY": _Bound(3), "minZ": _ZBound(False), "maxZ": _ZBound(True),
        "asWKT": as_wkt, "asGML": as_gml, "asGeoJSON": as_geojson, "asKML": as_kml,
    }.items()
}
CRS84 = CRS84_IRI
