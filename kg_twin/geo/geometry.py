"""Geometry checks and WKT literals for GeoSPARQL.

Policy (documented in docs/ingest-geo-bim.md):

1. The source geometry is checked in its own CRS with ``shapely.is_valid``. Empty or missing
   geometries are rejected (``NO_GEOMETRY``). Invalid ones are rejected (``INVALID_GEOMETRY``, the
   reason is ``shapely.is_valid_reason``) unless the mapping says ``geometry.invalid: repair``; then
   ``shapely.make_valid(method="structure")`` repairs them (polygons stay polygons) and the feature
   records ``kgt:geometryRepaired true``.
2. The geometry is reprojected to CRS84 and snapped to a 1e-7 degree grid (about 1 cm) with
   ``shapely.set_precision``, which returns a valid geometry; a geometry that collapses on that grid
   (a sliver under 1 cm) is rejected (``GEOMETRY_COLLAPSED``). Coordinates outside lon [-180, 180] /
   lat [-90, 90] mean the declared CRS is wrong (``OUT_OF_RANGE``).
3. The WKT is 2D (``POLYGON ((lon lat, ...))``), no CRS IRI prefix (CRS84 is the GeoSPARQL default).

>>> g = prepare({"type": "Point", "coordinates": [2.5, 44.3]}, ToCRS84("OGC:CRS84"))
>>> g.wkt
'POINT (2.5 44.3)'
>>> prepare({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, ToCRS84("OGC:CRS84"))
Traceback (most recent call last):
...
kg_twin.geo.geometry.GeometryError: INVALID_GEOMETRY: Self-intersection[0.5 0.5]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape

from kg_twin.geo.crs import ToCRS84, crs_iri

GRID_DEG = 1e-7
WKT_LITERAL = "http://www.opengis.net/ont/geosparql#wktLiteral"

_SF = {
    "Point": "Point",
    "MultiPoint": "MultiPoint",
    "LineString": "LineString",
    "MultiLineString": "MultiLineString",
    "Polygon": "Polygon",
    "MultiPolygon": "MultiPolygon",
    "GeometryCollection": "GeometryCollection",
}


class GeometryError(ValueError):
    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{code}: {reason}")


@dataclass
class Prepared:
    wkt: str  # CRS84, no prefix
    sf_type: str  # Simple Features class name (sf:Polygon ...)
    repaired: bool
    source_wkt: str | None = None  # "<crs iri> WKT" in the source CRS (when asked for)


def to_shapely(geojson: dict[str, Any] | None) -> shapely.Geometry:
    if not geojson or not geojson.get("type"):
        raise GeometryError("NO_GEOMETRY", "feature has no geometry")
    try:
        g = shape(geojson)
    except (ValueError, TypeError, AttributeError, IndexError) as e:
        raise GeometryError("BAD_GEOMETRY", f"geometry cannot be built: {e}") from e
    return g


def prepare(
    geojson: dict[str, Any] | None,
    reproject: ToCRS84,
    *,
    invalid: str = "reject",
    keep_source: bool = False,
) -> Prepared:
    """Check, (repair,) reproject and serialize one GeoJSON-like geometry. Raises :class:`GeometryError`."""
    g = to_shapely(geojson)
    if g.is_empty:
        raise GeometryError("NO_GEOMETRY", "geometry is empty")
    repaired = False
    if not shapely.is_valid(g):
        reason = shapely.is_valid_reason(g)
        if invalid != "repair":
            raise GeometryError("INVALID_GEOMETRY", reason)
        g = shapely.make_valid(g, method="structure", keep_collapsed=False)
        if g.is_empty:
            raise GeometryError("INVALID_GEOMETRY", f"{reason}; repair left nothing")
        repaired = True
    src_wkt = None
    if keep_source and not reproject.identity:
        iri = crs_iri(reproject.source)
        digits = 8 if reproject.geographic else 3
        body = shapely.to_wkt(shapely.force_2d(g), rounding_precision=digits, trim=True)
        src_wkt = f"<{iri}> {body}" if iri else body
    out = reproject.geometry(g)
    if not shapely.is_empty(out):
        xmin, ymin, xmax, ymax = shapely.bounds(out)
        if not (-180.0 <= xmin <= xmax <= 180.0 and -90.0 <= ymin <= ymax <= 90.0) or any(
            v != v for v in (xmin, ymin, xmax, ymax)
        ):
            raise GeometryError(
                "OUT_OF_RANGE",
                f"reprojected bounds ({xmin:.6g} {ymin:.6g}, {xmax:.6g} {ymax:.6g}) are not longitude/latitude: "
                "the declared CRS does not match the coordinates",
            )
    out = shapely.set_precision(out, GRID_DEG)
    if out.is_empty:
        raise GeometryError("GEOMETRY_COLLAPSED", f"geometry collapses on a {GRID_DEG} degree grid (smaller than ~1 cm)")
    wkt = shapely.to_wkt(out, rounding_precision=7, trim=True, output_dimension=2)
    return Prepared(wkt=wkt, sf_type=_SF.get(out.geom_type, "Geometry"), repaired=repaired, source_wkt=src_wkt)
