"""Geometry literals: ``geo:wktLiteral`` and ``geo:gmlLiteral`` in, WKT / GML / GeoJSON / KML out.

A parsed literal is a :class:`Geom`: a 2D shapely geometry in the coordinates of its own CRS
(axis order as the CRS defines it, e.g. latitude first for EPSG:4326) and that CRS's IRI.
Without a CRS the coordinates are CRS84 (longitude, latitude), the GeoSPARQL default.

* WKT: an optional ``<crs IRI>`` prefix, then OGC Simple Features WKT (Z/M dropped; ``EMPTY`` kept).
* GML (3.2 or 3.1): ``Point``, ``LineString``, ``LinearRing``, ``Polygon``, ``Envelope``,
  ``MultiPoint``, ``MultiCurve``/``MultiLineString``, ``MultiSurface``/``MultiPolygon``,
  ``MultiGeometry``; coordinates in ``pos``/``posList``/``coordinates``; the CRS from ``srsName``.

>>> g = parse_literal("<http://www.opengis.net/def/crs/EPSG/0/2154> POINT(664275.2 6360036.3)", WKT_LITERAL)
>>> g.crs, g.geom.wkt
('http://www.opengis.net/def/crs/EPSG/0/2154', 'POINT (664275.2 6360036.3)')
>>> [round(c, 4) for c in g.crs84().coords[0]]
[2.5519, 44.3384]
>>> gml = '<gml:Point xmlns:gml="http://www.opengis.net/gml/3.2"><gml:pos>2.35 48.85</gml:pos></gml:Point>'
>>> parse_literal(gml, GML_LITERAL).geom.wkt
'POINT (2.35 48.85)'
>>> to_wkt(Geom(shapely.Point(1, 2), "http://www.opengis.net/def/crs/EPSG/0/2154"))
'<http://www.opengis.net/def/crs/EPSG/0/2154> POINT (1 2)'
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

GEO = "http://www.opengis.net/ont/geosparql#"
WKT_LITERAL = GEO + "wktLiteral"
GML_LITERAL = GEO + "gmlLiteral"
GEOJSON_LITERAL = GEO + "geoJSONLiteral"
KML_LITERAL = GEO + "kmlLiteral"
DGGS_LITERAL = GEO + "dggsLiteral"
CRS84_IRI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GML_NS = "http://www.opengis.net/gml/3.2"
MAX_GML_CHARS = 50_000_000

_PREFIX_RE = re.compile(r"^\s*<([^>\s]+)>\s*(.*)$", re.DOTALL)
_CRS_RE = re.compile(r"^(?:https?://www\.opengis\.net/def/crs/(EPSG|OGC)/[^/]+/([^/\s]+)|urn:ogc:def:crs:(EPSG|OGC):[^:]*:([^:\s]+)|(EPSG|OGC):([^:\s]+))$", re.I)


@dataclass(frozen=True)
class Geom:
    """A geometry in its own CRS (``crs``: an OGC CRS IRI)."""

    geom: BaseGeometry
    crs: str = CRS84_IRI

    def crs84(self) -> BaseGeometry:
        """The geometry in CRS84 (longitude, latitude)."""
        return transform(self.geom, self.crs, CRS84_IRI)

    def in_crs(self, crs: str) -> "Geom":
        return self if same_crs(crs, self.crs) else Geom(transform(self.geom, self.crs, crs), crs)


def crs_key(iri: str) -> str:
    """``EPSG:2154`` / ``OGC:CRS84`` for a CRS IRI, URN or code; ValueError when not recognised.

    >>> crs_key("http://www.opengis.net/def/crs/EPSG/0/4326"), crs_key("urn:ogc:def:crs:OGC:1.3:CRS84")
    ('EPSG:4326', 'OGC:CRS84')
    """
    m = _CRS_RE.match(iri.strip())
    if not m:
        raise ValueError(f"unsupported CRS IRI {iri!r}")
    auth = (m.group(1) or m.group(3) or m.group(5)).upper()
    code = m.group(2) or m.group(4) or m.group(6)
    if auth == "OGC" and code.upper() in ("CRS84", "1.3/CRS84"):
        return "OGC:CRS84"
    return f"{auth}:{code}"


def crs_iri_of(key: str) -> str:
    """The canonical OGC IRI of a CRS key (``EPSG:2154`` -> ``http://www.opengis.net/def/crs/EPSG/0/2154``)."""
    auth, _, code = crs_key(key).partition(":")
    return CRS84_IRI if code.upper() == "CRS84" else f"http://www.opengis.net/def/crs/{auth}/0/{code}"


def same_crs(a: str, b: str) -> bool:
    return a == b or crs_key(a) == crs_key(b)


@lru_cache(maxsize=128)
def crs_of(iri: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(crs_key(iri))
    except pyproj.exceptions.CRSError as e:
        raise ValueError(f"unknown CRS {iri!r}: {e}") from None


@lru_cache(maxsize=256)
def _transformer(src: str, dst: str) -> pyproj.Transformer:
    # no always_xy: coordinates follow each CRS's own axis order (GeoSPARQL), e.g. lat/lon in EPSG:4326
    return pyproj.Transformer.from_crs(crs_of(src), crs_of(dst))


def transform(geom: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    """Reproject ``geom`` from CRS ``src`` to ``dst`` (IRIs); unchanged when they are the same CRS."""
    if same_crs(src, dst) or geom.is_empty:
        return geom
    tr = _transformer(crs_key(src), crs_key(dst))

    def xy(a: np.ndarray) -> np.ndarray:
        x, y = tr.transform(a[:, 0], a[:, 1])
        return np.column_stack([x, y])

    out = shapely.transform(geom, xy)
    if not np.isfinite(shapely.bounds(out)).all():
        raise ValueError(f"the geometry cannot be expressed in {dst}")
    return out


# ------------------------------------------------------------------ parsing
@lru_cache(maxsize=8192)
def parse_literal(lexical: str, datatype: str) -> Geom:
    """A geometry literal -> :class:`Geom` (ValueError: malformed, unknown CRS, unsupported datatype)."""
    if datatype == WKT_LITERAL:
        return parse_wkt(lexical)
    if datatype == GML_LITERAL:
        return parse_gml(lexical)
    if datatype == GEOJSON_LITERAL:
        return Geom(shapely.force_2d(shapely.from_geojson(lexical)), CRS84_IRI)
    raise ValueError(f"not a geometry literal type: {datatype}")


def parse_wkt(text: str) -> Geom:
    crs, body = CRS84_IRI, text
    m = _PREFIX_RE.match(text)
    if m:
        crs, body = m.group(1), m.group(2)
        crs_of(crs)  # unknown CRS: ValueError
    try:
        geom = shapely.from_wkt(body.strip())
    except shapely.errors.GEOSException as e:
        raise ValueError(f"malformed WKT: {e}") from None
    if geom is None:
        raise ValueError("empty WKT")
    return Geom(shapely.force_2d(geom), crs)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _coords(el: ET.Element, dim: int) -> list[tuple[float, float]]:
    """Coordinates under a GML element (pos, posList, coordinates, coord)."""
    pts: list[tuple[float, float]] = []
    for child in el.iter():
        name = _local(child.tag)
        text = (child.text or "").strip()
        if name == "posList":
            d = int(child.get("srsDimension") or child.get("dimension") or dim)
            v = [float(x) for x in text.split()]
            if len(v) % d:
                raise ValueError("GML posList length is not a multiple of its dimension")
            pts.extend((v[i], v[i + 1]) for i in range(0, len(v), d))
        elif name == "pos":
            v = [float(x) for x in text.split()]
            if len(v) < 2:
                raise ValueError("GML pos needs two coordinates")
            pts.append((v[0], v[1]))
        elif name == "coordinates":
            cs, ts = child.get("cs", ","), child.get("ts", " ")
            for tup in text.split(ts):
                if tup.strip():
                    v = [float(x) for x in tup.split(cs)]
                    pts.append((v[0], v[1]))
        elif name == "coord":
            xs = {_local(c.tag): float((c.text or "0").strip()) for c in child}
            pts.append((xs["X"], xs["Y"]))
    return pts


def _ring(el: ET.Element, dim: int) -> list[tuple[float, float]]:
    return _coords(el, dim)


def _gml_geom(el: ET.Element, dim: int) -> BaseGeometry:
    name = _local(el.tag)
    dim = int(el.get("srsDimension") or dim)
    if name == "Point":
        pts = _coords(el, dim)
        return shapely.Point(pts[0]) if pts else shapely.Point()
    if name in ("LineString", "Curve", "LineStringSegment"):
        return shapely.LineString(_coords(el, dim))
    if name == "LinearRing":
        return shapely.LinearRing(_coords(el, dim))
    if name in ("Polygon", "Surface", "PolygonPatch"):
        shell: list[tuple[float, float]] = []
        holes = []
        for child in el.iter():
            n = _local(child.tag)
            if n in ("exterior", "outerBoundaryIs"):
                shell = _ring(child, dim)
            elif n in ("interior", "innerBoundaryIs"):
                holes.append(_ring(child, dim))
        return shapely.Polygon(shell, holes) if shell else shapely.Polygon()
    if name == "Envelope":
        lo = hi = None
        for child in el:
            n = _local(child.tag)
            v = [float(x) for x in (child.text or "").split()]
            if n == "lowerCorner":
                lo = v
            elif n == "upperCorner":
                hi = v
        if lo is None or hi is None:
            raise ValueError("GML Envelope needs lowerCorner and upperCorner")
        return shapely.box(lo[0], lo[1], hi[0], hi[1])
    members = [m for child in el if _local(child.tag).endswith(("Member", "Members")) for m in child]
    if name in ("MultiPoint",):
        return shapely.MultiPoint([_gml_geom(m, dim) for m in members])
    if name in ("MultiCurve", "MultiLineString"):
        return shapely.MultiLineString([_gml_geom(m, dim) for m in members])
    if name in ("MultiSurface", "MultiPolygon"):
        return shapely.MultiPolygon([_gml_geom(m, dim) for m in members])
    if name in ("MultiGeometry", "CompositeSurface", "CompositeCurve"):
        return shapely.GeometryCollection([_gml_geom(m, dim) for m in members])
    raise ValueError(f"unsupported GML element {name}")


def parse_gml(text: str) -> Geom:
    if len(text) > MAX_GML_CHARS:
        raise ValueError("GML literal too large")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ValueError("GML literals may not declare a DOCTYPE or entities")
    try:
        root = ET.fromstring(text.strip())
    except ET.ParseError as e:
        raise ValueError(f"malformed GML: {e}") from None
    crs = root.get("srsName") or CRS84_IRI
    crs_of(crs)
    geom = _gml_geom(root, int(root.get("srsDimension") or 2))
    return Geom(geom, crs_iri_of(crs) if not crs.startswith("http") else crs)


# ------------------------------------------------------------------ serialising
def to_wkt(g: Geom) -> str:
    """WKT literal text: CRS prefix unless CRS84; 15 significant digits at most."""
    body = shapely.to_wkt(g.geom, rounding_precision=-1, trim=True)
    return body if same_crs(g.crs, CRS84_IRI) else f"<{g.crs}> {body}"


def _gml_pos(coords: Any) -> str:
    return " ".join(f"{x!r} {y!r}" for x, y in ((float(c[0]), float(c[1])) for c in coords))


def _gml_body(geom: BaseGeometry, a: str = "") -> str:
    """GML 3.2 of ``geom``; ``a``: attributes of the root element (with a leading space)."""
    t = geom.geom_type
    if t == "Point":
        pos = f"<gml:pos>{_gml_pos(geom.coords)}</gml:pos>" if not geom.is_empty else ""
        return f"<gml:Point{a}>{pos}</gml:Point>"
    if t in ("LineString", "LinearRing"):
        return f"<gml:{t}{a}><gml:posList>{_gml_pos(geom.coords)}</gml:posList></gml:{t}>"
    if t == "Polygon":
        if geom.is_empty:
            return f"<gml:Polygon{a}></gml:Polygon>"
        ext = f"<gml:exterior><gml:LinearRing><gml:posList>{_gml_pos(geom.exterior.coords)}</gml:posList></gml:LinearRing></gml:exterior>"
        ints = "".join(f"<gml:interior><gml:LinearRing><gml:posList>{_gml_pos(r.coords)}</gml:posList></gml:LinearRing></gml:interior>" for r in geom.interiors)
        return f"<gml:Polygon{a}>{ext}{ints}</gml:Polygon>"
    wrap, member = {"MultiPoint": ("MultiPoint", "pointMember"), "MultiLineString": ("MultiCurve", "curveMember"),
                    "MultiPolygon": ("MultiSurface", "surfaceMember")}.get(t, ("MultiGeometry", "geometryMember"))
    parts = "".join(f"<gml:{member}>{_gml_body(p)}</gml:{member}>" for p in geom.geoms)
    return f"<gml:{wrap}{a}>{parts}</gml:{wrap}>"


def to_gml(g: Geom) -> str:
    """GML 3.2 text with ``srsName`` and the ``gml`` namespace on the root element.

    >>> to_gml(Geom(shapely.Point(1, 2)))
    '<gml:Point xmlns:gml="http://www.opengis.net/gml/3.2" srsName="http://www.opengis.net/def/crs/OGC/1.3/CRS84"><gml:pos>1.0 2.0</gml:pos></gml:Point>'
    """
    return _gml_body(g.geom, f' xmlns:gml="{GML_NS}" srsName="{g.crs}"')


def to_geojson(g: Geom) -> str:
    """RFC 7946 GeoJSON geometry (always CRS84, longitude first)."""
    return json.dumps(shapely.geometry.mapping(g.crs84()), separators=(",", ":"))


def to_kml(g: Geom) -> str:
    """KML 2.2 geometry (CRS84 coordinates ``lon,lat``)."""
    return _kml(g.crs84())


def _kml_coords(coords: Any) -> str:
    return " ".join(f"{float(c[0])!r},{float(c[1])!r}" for c in coords)


def _kml(geom: BaseGeometry) -> str:
    t = geom.geom_type
    if t == "Point":
        return f"<Point><coordinates>{_kml_coords(geom.coords)}</coordinates></Point>"
    if t in ("LineString", "LinearRing"):
        return f"<{t}><coordinates>{_kml_coords(geom.coords)}</coordinates></{t}>"
    if t == "Polygon":
        inner = "".join(f"<innerBoundaryIs><LinearRing><coordinates>{_kml_coords(r.coords)}</coordinates></LinearRing></innerBoundaryIs>" for r in geom.interiors)
        return f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{_kml_coords(geom.exterior.coords)}</coordinates></LinearRing></outerBoundaryIs>{inner}</Polygon>"
    return "<MultiGeometry>" + "".join(_kml(p) for p in geom.geoms) + "</MultiGeometry>"


# ------------------------------------------------------------------ SPARQL terms
GEOMETRY_DATATYPES = (WKT_LITERAL, GML_LITERAL, GEOJSON_LITERAL)


def from_term(term: Any) -> Geom:
    """A SPARQL function argument (a kg_twin.rdf Literal of a geometry type) -> :class:`Geom`."""
    dt = getattr(term, "datatype", None)
    if dt not in GEOMETRY_DATATYPES:
        raise ValueError("a geo:wktLiteral or geo:gmlLiteral is expected")
    return parse_literal(term.value, dt)


def literal_of(g: Geom, datatype: str) -> Any:
    """A result geometry as a literal of ``datatype`` (WKT, or GML for GML arguments)."""
    from kg_twin.rdf import Literal

    if datatype == GML_LITERAL:
        return Literal(to_gml(g), GML_LITERAL)
    if datatype == GEOJSON_LITERAL:
        return Literal(to_geojson(g), GEOJSON_LITERAL)
    return Literal(to_wkt(g), WKT_LITERAL)
