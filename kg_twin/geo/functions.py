"""GeoSPARQL functions for SPARQL queries, computed with shapely and pyproj.

The composition root passes :data:`FUNCTIONS` to the store (:func:`kg_twin.service.sparql_functions`),
so they work in every query (the SPARQL endpoints, the query catalogue, the CLI), in the query
worker processes too. pyoxigraph 0.5 ships a partial GeoSPARQL (spargeo): the simple-features
relations (``geof:sfWithin`` ...) on CRS84 WKT, but no ``distance``, ``buffer``, ``envelope``
or ``area``. This module adds those four; CRS-aware versions of the relations are here too
(``RELATIONS``) and replace the built-in ones with ``KG_TWIN_CRS_RELATIONS=true``
(6-8x slower: a Python call per row, measured in bench/catalog.py). Behaviour:

* WKT literals (``geo:wktLiteral``) may carry a CRS IRI prefix
  (``<http://www.opengis.net/def/crs/EPSG/0/2154> POINT(...)``); without one the
  coordinates are CRS84 (longitude, latitude), the GeoSPARQL default. Other CRSs are
  reprojected to CRS84 with pyproj (EPSG:4326 in its official latitude/longitude
  axis order). Z/M coordinates are dropped.
* Relations are evaluated on CRS84 coordinates (planar predicates, as GeoSPARQL engines do
  for geographic CRSs). The built-in ones leave the result unbound for a WKT with another CRS
  prefix; named-query parameters are therefore converted to CRS84 before they are bound.
* ``geof:distance`` and ``geof:buffer`` work in metres on the WGS84 ellipsoid:
  point to point with the geodesic (pyproj ``Geod``), other geometries in a local
  azimuthal equidistant projection centred between them (error well under 0.1 %
  up to ~100 km).
* A malformed WKT, an unknown CRS or an unsupported unit makes the function fail,
  which in SPARQL leaves the expression unbound (a FILTER on it is false).

Functions (namespace ``geof:`` = ``http://www.opengis.net/def/function/geosparql/``):

=====================================  ==========================================
``geof:sfWithin|sfContains|sfIntersects|sfDisjoint|sfEquals|sfTouches|sfOverlaps|sfCrosses(a, b)``
                                       pyoxigraph built-in (or ``RELATIONS``, see above)
``geof:distance(a, b [, unit])``       minimum distance (unit: metre (default), kilometre)
``geof:buffer(a, radius [, unit])``    a grown by radius (metre / kilometre), CRS84 WKT
``geof:envelope(a)``                   bounding box polygon, CRS84 WKT
``geof:area(a [, unit])``              geodesic area in m2 (unit: square metre)
=====================================  ==========================================

>>> from kg_twin.rdf import Literal
>>> W = "http://www.opengis.net/ont/geosparql#wktLiteral"
>>> sf_within(Literal("POINT(2.35 48.85)", W), Literal("POLYGON((2 48, 3 48, 3 49, 2 49, 2 48))", W))
True
>>> sf_within(Literal("<http://www.opengis.net/def/crs/EPSG/0/4326> POINT(48.85 2.35)", W), Literal("POLYGON((2 48, 3 48, 3 49, 2 49, 2 48))", W))
True
>>> round(distance(Literal("POINT(2.35 48.85)", W), Literal("POINT(2.36 48.85)", W)))
734
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from kg_twin.rdf import IRI, Literal

GEOF = "http://www.opengis.net/def/function/geosparql/"
WKT_LITERAL = "http://www.opengis.net/ont/geosparql#wktLiteral"
CRS84_IRI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

_PREFIX_RE = re.compile(r"^\s*<([^>\s]+)>\s*(.*)$", re.DOTALL)
_CRS_HTTP_RE = re.compile(r"^https?://www\.opengis\.net/def/crs/(EPSG|OGC)/[^/]+/([^/\s]+)$", re.I)

# unit IRIs: OGC (GeoSPARQL 1.0/1.1) and QUDT spellings
METRE_UNITS = {
    "http://www.opengis.net/def/uom/OGC/1.0/metre": 1.0,
    "http://www.opengis.net/def/uom/OGC/1.0/meter": 1.0,
    "http://qudt.org/vocab/unit/M": 1.0,
    "http://qudt.org/vocab/unit#Meter": 1.0,
    "http://qudt.org/vocab/unit/KiloM": 1000.0,
    "http://www.opengis.net/def/uom/OGC/1.0/kilometre": 1000.0,
}
AREA_UNITS = {
    "http://qudt.org/vocab/unit/M2": 1.0,
    "http://www.opengis.net/def/uom/OGC/1.0/squareMetre": 1.0,
    "http://qudt.org/vocab/unit/KiloM2": 1e6,
    "http://qudt.org/vocab/unit/HA": 1e4,
}

GEOD = pyproj.Geod(ellps="WGS84")


@lru_cache(maxsize=64)
def _to_crs84(crs_iri: str) -> pyproj.Transformer | None:
    """Transformer from a CRS IRI to CRS84 (None: already CRS84)."""
    m = _CRS_HTTP_RE.match(crs_iri)
    if not m:
        raise ValueError(f"unsupported CRS IRI {crs_iri!r}")
    auth, code = m.group(1).upper(), m.group(2)
    if auth == "OGC" and code.upper() == "CRS84":
        return None
    try:
        crs = pyproj.CRS.from_user_input(f"{auth}:{code}")
        # no always_xy: WKT coordinates follow the CRS's own axis order (GeoSPARQL), e.g. lat/lon for EPSG:4326
        return pyproj.Transformer.from_crs(crs, "OGC:CRS84")
    except pyproj.exceptions.ProjError as e:
        raise ValueError(f"unknown CRS {crs_iri!r}: {e}") from None


@lru_cache(maxsize=4096)
def parse_wkt(text: str) -> BaseGeometry:
    """A WKT literal's lexical form -> 2D shapely geometry in CRS84 (ValueError if malformed)."""
    crs = CRS84_IRI
    body = text
    m = _PREFIX_RE.match(text)
    if m:
        crs, body = m.group(1), m.group(2)
    try:
        geom = shapely.from_wkt(body.strip())
    except shapely.errors.GEOSException as e:
        raise ValueError(f"malformed WKT: {e}") from None
    if geom is None:
        raise ValueError("empty WKT")
    geom = shapely.force_2d(geom)
    tr = _to_crs84(crs)
    if tr is not None:
        geom = shapely.transform(geom, lambda xy: _xy(tr, xy))
    shapely.prepare(geom)
    return geom


def _xy(tr: pyproj.Transformer, xy: Any) -> Any:
    import numpy as np

    lon, lat = tr.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def geometry(term: Any) -> BaseGeometry:
    """A SPARQL argument (kg_twin.rdf term) -> shapely geometry; ValueError unless a wktLiteral."""
    if not isinstance(term, Literal) or term.datatype != WKT_LITERAL:
        raise ValueError("a geo:wktLiteral is expected")
    return parse_wkt(term.value)


def wkt_literal(geom: BaseGeometry) -> Literal:
    return Literal(shapely.to_wkt(geom, rounding_precision=9, trim=True), WKT_LITERAL)


def _unit(term: Any, table: dict[str, float]) -> float:
    if term is None:
        return 1.0
    iri = term if isinstance(term, IRI) else (term.value if isinstance(term, Literal) else None)
    if iri is None or str(iri) not in table:
        raise ValueError(f"unsupported unit {term!r}")
    return table[str(iri)]


@lru_cache(maxsize=256)
def _local(lon: float, lat: float) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    """CRS84 <-> azimuthal equidistant projection (metres) centred on (lon, lat), ~1 km grid."""
    aeqd = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs")
    fwd = pyproj.Transformer.from_crs("OGC:CRS84", aeqd, always_xy=True)
    inv = pyproj.Transformer.from_crs(aeqd, "OGC:CRS84", always_xy=True)
    return fwd, inv


def _centre(*geoms: BaseGeometry) -> tuple[float, float]:
    xs, ys = [], []
    for g in geoms:
        c = g.centroid if not g.is_empty else None
        if c is not None and not c.is_empty:
            xs.append(c.x)
            ys.append(c.y)
    if not xs:
        raise ValueError("empty geometry")
    # rounded so that nearby calls share one projection (cache); 0.01 degree ~ 1 km
    return round(sum(xs) / len(xs), 2), round(sum(ys) / len(ys), 2)


def _project(geom: BaseGeometry, tr: pyproj.Transformer) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: _xy(tr, xy))


def distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """Minimum distance in metres between two CRS84 geometries."""
    if a.is_empty or b.is_empty:
        raise ValueError("empty geometry")
    if a.geom_type == "Point" and b.geom_type == "Point":
        _, _, d = GEOD.inv(a.x, a.y, b.x, b.y)
        return float(d)
    if a.intersects(b):
        return 0.0
    fwd, _ = _local(*_centre(a, b))
    return float(_project(a, fwd).distance(_project(b, fwd)))


@lru_cache(maxsize=8192)
def _projected(text: str, lon: float, lat: float) -> BaseGeometry:
    """The geometry of a WKT text in the local projection centred on (lon, lat) (cached: a query
    compares many geometries with the same parameter geometry)."""
    g = _project(parse_wkt(text), _local(lon, lat)[0])
    shapely.prepare(g)
    return g


def distance_wkt(a: str, b: str) -> float:
    """:func:`distance_m` for two WKT texts, reusing projections across calls."""
    ga, gb = parse_wkt(a), parse_wkt(b)
    if ga.is_empty or gb.is_empty:
        raise ValueError("empty geometry")
    if ga.geom_type == "Point" and gb.geom_type == "Point":
        return float(GEOD.inv(ga.x, ga.y, gb.x, gb.y)[2])
    if ga.intersects(gb):
        return 0.0
    lon, lat = _centre(ga, gb)
    return float(_projected(a, lon, lat).distance(_projected(b, lon, lat)))


def buffer_m(a: BaseGeometry, radius_m: float) -> BaseGeometry:
    fwd, inv = _local(*_centre(a))
    return _project(_project(a, fwd).buffer(radius_m, quad_segs=16), inv)


class Relation:
    """A simple-features relation on two WKT literals (any CRS), with a shapely predicate.

    A module-level class (not a closure), so that the query worker processes receive it pickled.
    """

    def __init__(self, name: str, predicate: Any) -> None:
        self.__name__ = name
        self.predicate = predicate

    def __call__(self, a: Any, b: Any) -> bool:
        return bool(self.predicate(geometry(a), geometry(b)))


# Simple-features relations. pyoxigraph 0.5 evaluates these natively (spargeo, 6-8x faster than a
# Python callback, CRS84 WKT only), so they are NOT in the store's table by default;
# KG_TWIN_CRS_RELATIONS=true replaces the built-in ones with these CRS-aware versions
# (any CRS IRI prefix, EPSG:4326 axis order).
sf_within = Relation("sfWithin", shapely.within)
sf_contains = Relation("sfContains", shapely.contains)
sf_intersects = Relation("sfIntersects", shapely.intersects)
sf_disjoint = Relation("sfDisjoint", shapely.disjoint)
sf_equals = Relation("sfEquals", shapely.equals)
sf_touches = Relation("sfTouches", shapely.touches)
sf_overlaps = Relation("sfOverlaps", shapely.overlaps)
sf_crosses = Relation("sfCrosses", shapely.crosses)
RELATIONS: dict[str, Any] = {GEOF + r.__name__: r for r in (sf_within, sf_contains, sf_intersects, sf_disjoint, sf_equals, sf_touches, sf_overlaps, sf_crosses)}


def to_crs84_wkt(text: str) -> str:
    """A WKT literal's text in CRS84 without a CRS prefix (unchanged when it already is)."""
    if not _PREFIX_RE.match(text):
        parse_wkt(text)  # validate
        return text.strip()
    return shapely.to_wkt(parse_wkt(text), rounding_precision=9, trim=True)


def distance(a: Any, b: Any, unit: Any = None) -> float:
    """Minimum distance between two geometries in metres (or the given unit)."""
    geometry(a), geometry(b)  # type checks
    return distance_wkt(a.value, b.value) / _unit(unit, METRE_UNITS)


def buffer(a: Any, radius: Any, unit: Any = None) -> Literal:
    """The geometry grown by ``radius`` (metres, or the given unit); CRS84 WKT."""
    if not isinstance(radius, Literal):
        raise ValueError("the radius must be a number")
    r = float(radius.value) * _unit(unit, METRE_UNITS)
    if not math.isfinite(r):
        raise ValueError("radius must be finite")
    return wkt_literal(buffer_m(geometry(a), r))


def envelope(a: Any) -> Literal:
    """Bounding box of a geometry (CRS84 WKT polygon)."""
    return wkt_literal(geometry(a).envelope)


def area(a: Any, unit: Any = None) -> float:
    """Geodesic area on the WGS84 ellipsoid in square metres (or the given unit)."""
    g = geometry(a)
    m2, _ = GEOD.geometry_area_perimeter(g)
    return abs(m2) / _unit(unit, AREA_UNITS)


# The functions pyoxigraph lacks, for the store's extension table (see kg_twin.service.sparql_functions).
FUNCTIONS: dict[str, Any] = {GEOF + "distance": distance, GEOF + "buffer": buffer, GEOF + "envelope": envelope, GEOF + "area": area}
