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
   lat [-90, 90], or more than 2 degrees outside the source CRS's area of use (EPSG:2154: France),
   mean the declared CRS is wrong (``OUT_OF_RANGE``).
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
from typing import Any, Sequence, Union

import numpy as np

import shapely
from shapely.geometry import shape

from kg_twin.geo.crs import AREA_MARGIN_DEG, ToCRS84, crs_iri

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


def _range_error(bounds: tuple[float, ...], reproject: ToCRS84) -> "GeometryError | None":
    xmin, ymin, xmax, ymax = bounds
    if any(v != v or v in (float("inf"), float("-inf")) for v in bounds) or not (
        -180.0 <= xmin <= xmax <= 180.0 and -90.0 <= ymin <= ymax <= 90.0
    ):
        return GeometryError(
            "OUT_OF_RANGE",
            f"reprojected bounds ({xmin:.6g} {ymin:.6g}, {xmax:.6g} {ymax:.6g}) are not longitude/latitude: "
            "the declared CRS does not match the coordinates",
        )
    if reproject.outside_area((xmin, ymin, xmax, ymax)):
        w, s, e, n = reproject.area_of_use() or (0, 0, 0, 0)
        return GeometryError(
            "OUT_OF_RANGE",
            f"reprojected to ({xmin:.4f} {ymin:.4f}, {xmax:.4f} {ymax:.4f}), outside the area of use of "
            f"{reproject.source.name} ({w:g} {s:g}, {e:g} {n:g}): the coordinates are probably in another CRS",
        )
    return None


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
        err = _range_error(tuple(float(v) for v in shapely.bounds(out)), reproject)
        if err:
            raise err
    out = shapely.set_precision(out, GRID_DEG)
    if out.is_empty:
        raise GeometryError("GEOMETRY_COLLAPSED", f"geometry collapses on a {GRID_DEG} degree grid (smaller than ~1 cm)")
    wkt = shapely.to_wkt(out, rounding_precision=7, trim=True, output_dimension=2)
    return Prepared(wkt=wkt, sf_type=_SF.get(out.geom_type, "Geometry"), repaired=repaired, source_wkt=src_wkt)


_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
               6: "MultiPolygon", 7: "GeometryCollection"}


def prepare_many(
    geojsons: Sequence[dict[str, Any] | None],
    reproject: ToCRS84,
    *,
    invalid: str = "reject",
    keep_source: bool = False,
) -> list[Union[Prepared, GeometryError]]:
    """:func:`prepare` for many geometries at once (same policy, same output), vectorized with
    shapely's array functions and one PROJ call: each item is a :class:`Prepared` or the
    :class:`GeometryError` of that geometry.

    >>> out = prepare_many([{"type": "Point", "coordinates": [2.5, 44.3]}, None], ToCRS84("OGC:CRS84"))
    >>> out[0].wkt, out[1].code
    ('POINT (2.5 44.3)', 'NO_GEOMETRY')
    """
    n = len(geojsons)
    out: list[Union[Prepared, GeometryError, None]] = [None] * n
    geoms = np.empty(n, dtype=object)
    for i, gj in enumerate(geojsons):
        try:
            g = to_shapely(gj)
            if g.is_empty:
                raise GeometryError("NO_GEOMETRY", "geometry is empty")
            geoms[i] = g
        except GeometryError as e:
            out[i] = e
    ok = np.array([g is not None for g in geoms], dtype=bool)
    repaired = np.zeros(n, dtype=bool)
    if ok.any():
        valid = np.ones(n, dtype=bool)
        valid[ok] = shapely.is_valid(geoms[ok])
        for i in np.flatnonzero(ok & ~valid):
            reason = shapely.is_valid_reason(geoms[i])
            if invalid != "repair":
                out[i], ok[i] = GeometryError("INVALID_GEOMETRY", reason), False
                continue
            g = shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
            if g.is_empty:
                out[i], ok[i] = GeometryError("INVALID_GEOMETRY", f"{reason}; repair left nothing"), False
                continue
            geoms[i], repaired[i] = g, True
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return out  # type: ignore[return-value]
    src = shapely.force_2d(geoms[idx])
    src_wkts = None
    if keep_source and not reproject.identity:
        iri = crs_iri(reproject.source)
        digits = 8 if reproject.geographic else 3
        bodies = shapely.to_wkt(src, rounding_precision=digits, trim=True)
        src_wkts = [f"<{iri}> {b}" if iri else str(b) for b in bodies]
    proj = src if reproject.identity else shapely.transform(src, reproject._xy)
    bounds = shapely.bounds(proj)
    in_range = (
        np.isfinite(bounds).all(axis=1)
        & (bounds[:, 0] >= -180.0) & (bounds[:, 2] <= 180.0) & (bounds[:, 1] >= -90.0) & (bounds[:, 3] <= 90.0)
    )
    area = reproject.area_of_use()
    if area is not None:
        w, s_, e, n_ = area
        m = AREA_MARGIN_DEG
        in_range &= (bounds[:, 0] >= w - m) & (bounds[:, 2] <= e + m) & (bounds[:, 1] >= s_ - m) & (bounds[:, 3] <= n_ + m)
    snapped = shapely.set_precision(proj, GRID_DEG)
    empty = shapely.is_empty(snapped)
    wkts = shapely.to_wkt(snapped, rounding_precision=7, trim=True, output_dimension=2)
    types = shapely.get_type_id(snapped)
    for k, i in enumerate(idx):
        if not in_range[k]:
            out[i] = _range_error(tuple(float(v) for v in bounds[k]), reproject)
        elif empty[k]:
            out[i] = GeometryError("GEOMETRY_COLLAPSED", f"geometry collapses on a {GRID_DEG} degree grid (smaller than ~1 cm)")
        else:
            out[i] = Prepared(wkt=str(wkts[k]), sf_type=_SF.get(_TYPE_NAMES.get(int(types[k]), ""), "Geometry"),
                              repaired=bool(repaired[i]), source_wkt=src_wkts[k] if src_wkts else None)
    return out  # type: ignore[return-value]
