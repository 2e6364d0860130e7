"""Measures in metres (and other units) for geometries in any CRS.

The definitions (PostGIS-equivalent, stated in docs/geosparql.md):

* **projected CRS** (e.g. EPSG:2154, EPSG:28992, UTM): planar (Cartesian) measures in the CRS's own
  linear unit, converted to the unit asked for - what PostGIS gives for ``geometry`` columns;
* **geographic CRS** (CRS84, EPSG:4326, ...): measures on the WGS84 ellipsoid - point to point
  the geodesic (pyproj ``Geod.inv``), areas and lengths the geodesic ones (``Geod.geometry_area_perimeter``,
  ``Geod.geometry_length``), other distances and buffers in a local azimuthal equidistant
  projection centred on the geometries (error well under 0.1 % up to ~100 km) - what PostGIS gives
  for ``geography``;
* angular units (degree, radian) only for geographic CRSs: planar measures on the CRS84
  coordinates (PostGIS ``geometry`` in EPSG:4326).

>>> from kg_twin.geo.literals import Geom
>>> import shapely
>>> round(distance_m(Geom(shapely.Point(2.35, 48.85)), Geom(shapely.Point(2.36, 48.85))), 3)
733.913
>>> L93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
>>> distance_m(Geom(shapely.Point(0, 0), L93), Geom(shapely.Point(300, 400), L93))
500.0
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from kg_twin.geo.literals import CRS84_IRI, Geom, crs_of, transform

GEOD = pyproj.Geod(ellps="WGS84")
UOM = "http://www.opengis.net/def/uom/OGC/1.0/"
QUDT = "http://qudt.org/vocab/unit/"

# unit IRI -> metres (linear); OGC (GeoSPARQL 1.0/1.1) and QUDT spellings
LINEAR_UNITS: dict[str, float] = {
    UOM + "metre": 1.0, UOM + "meter": 1.0, QUDT + "M": 1.0, "http://qudt.org/vocab/unit#Meter": 1.0,
    UOM + "kilometre": 1000.0, QUDT + "KiloM": 1000.0, QUDT + "CentiM": 0.01, QUDT + "MilliM": 0.001,
    UOM + "foot": 0.3048, QUDT + "FT": 0.3048, QUDT + "FT_US": 1200 / 3937, UOM + "US_survey_foot": 1200 / 3937,
    QUDT + "MI": 1609.344, QUDT + "MI_N": 1852.0, QUDT + "YD": 0.9144,
}
# unit IRI -> degrees (angular)
ANGULAR_UNITS: dict[str, float] = {UOM + "degree": 1.0, QUDT + "DEG": 1.0, UOM + "radian": 180 / math.pi, QUDT + "RAD": 180 / math.pi}
# unit IRI -> square metres
AREA_UNITS: dict[str, float] = {
    QUDT + "M2": 1.0, UOM + "squareMetre": 1.0, UOM + "metre2": 1.0, QUDT + "KiloM2": 1e6, QUDT + "HA": 1e4,
    QUDT + "AC": 4046.8564224, QUDT + "FT2": 0.09290304, UOM + "squareKilometre": 1e6,
}


def unit_iri(term: Any) -> str:
    iri = getattr(term, "value", term) if not isinstance(term, str) else term
    return str(iri)


def _xy(tr: pyproj.Transformer, a: np.ndarray) -> np.ndarray:
    x, y = tr.transform(a[:, 0], a[:, 1])
    return np.column_stack([x, y])


@lru_cache(maxsize=256)
def _local(lon: float, lat: float) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    """CRS84 <-> azimuthal equidistant projection (metres) centred on (lon, lat)."""
    aeqd = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs")
    return (pyproj.Transformer.from_crs("OGC:CRS84", aeqd, always_xy=True), pyproj.Transformer.from_crs(aeqd, "OGC:CRS84", always_xy=True))


def _centre(*geoms: BaseGeometry) -> tuple[float, float]:
    pts = [g.centroid for g in geoms if not g.is_empty]
    pts = [p for p in pts if not p.is_empty]
    if not pts:
        raise ValueError("empty geometry")
    # rounded so that nearby calls share one projection (cache); 0.01 degree ~ 1 km
    return round(sum(p.x for p in pts) / len(pts), 2), round(sum(p.y for p in pts) / len(pts), 2)


def _project(geom: BaseGeometry, tr: pyproj.Transformer) -> BaseGeometry:
    return shapely.transform(geom, lambda a: _xy(tr, a))


def linear_unit_m(crs: str) -> float:
    """Metres per unit of a projected CRS's first axis."""
    axis = crs_of(crs).axis_info[0]
    f = axis.unit_conversion_factor
    if not f or axis.unit_name in ("degree", "radian", "grad"):
        raise ValueError(f"{crs} has no linear unit")
    return float(f)


def is_geographic(crs: str) -> bool:
    c = crs_of(crs)
    return bool(c.is_geographic)


def distance_m(a: Geom, b: Geom) -> float:
    """Minimum distance in metres (definitions in the module doc)."""
    if a.geom.is_empty or b.geom.is_empty:
        raise ValueError("empty geometry")
    if not is_geographic(a.crs):
        gb = b.in_crs(a.crs).geom
        return float(a.geom.distance(gb)) * linear_unit_m(a.crs)
    ga, gb = a.crs84(), b.crs84()
    if ga.geom_type == "Point" and gb.geom_type == "Point":
        return float(GEOD.inv(ga.x, ga.y, gb.x, gb.y)[2])
    if ga.intersects(gb):
        return 0.0
    fwd, _ = _local(*_centre(ga, gb))
    return float(_project(ga, fwd).distance(_project(gb, fwd)))


def distance(a: Geom, b: Geom, unit: str) -> float:
    if unit in LINEAR_UNITS:
        return distance_m(a, b) / LINEAR_UNITS[unit]
    if unit in ANGULAR_UNITS and is_geographic(a.crs):
        return float(a.crs84().distance(b.crs84())) / ANGULAR_UNITS[unit]
    raise ValueError(f"unsupported distance unit {unit!r} for {a.crs}")


def buffer(a: Geom, radius: float, unit: str) -> Geom:
    """``a`` grown by ``radius`` (negative: shrunk), in ``a``'s CRS."""
    if not math.isfinite(radius):
        raise ValueError("the radius must be finite")
    if unit in ANGULAR_UNITS and is_geographic(a.crs):
        g84 = a.crs84().buffer(radius * ANGULAR_UNITS[unit], quad_segs=16)
        return Geom(transform(g84, CRS84_IRI, a.crs), a.crs)
    if unit not in LINEAR_UNITS:
        raise ValueError(f"unsupported buffer unit {unit!r} for {a.crs}")
    r_m = radius * LINEAR_UNITS[unit]
    if not is_geographic(a.crs):
        return Geom(a.geom.buffer(r_m / linear_unit_m(a.crs), quad_segs=16), a.crs)
    g84 = a.crs84()
    fwd, inv = _local(*_centre(g84))
    out = _project(_project(g84, fwd).buffer(r_m, quad_segs=16), inv)
    return Geom(transform(out, CRS84_IRI, a.crs), a.crs)


def area_m2(a: Geom) -> float:
    if not is_geographic(a.crs):
        return float(a.geom.area) * linear_unit_m(a.crs) ** 2
    m2, _ = GEOD.geometry_area_perimeter(a.crs84())
    return abs(float(m2))


def area(a: Geom, unit: str) -> float:
    if unit in AREA_UNITS:
        return area_m2(a) / AREA_UNITS[unit]
    raise ValueError(f"unsupported area unit {unit!r}")


def _parts(g: BaseGeometry, dims: int) -> list[BaseGeometry]:
    """The parts of ``g`` of topological dimension ``dims`` (1: lines, 2: polygons)."""
    if g.is_empty:
        return []
    if hasattr(g, "geoms"):
        return [p for part in g.geoms for p in _parts(part, dims)]
    d = shapely.get_dimensions(g)
    return [g] if d == dims else []


def length_m(a: Geom) -> float:
    """Length of the linear parts (0 for points and polygons, like PostGIS ST_Length)."""
    return _measure_lines(a, [p for p in _parts(a.geom, 1)])


def perimeter_m(a: Geom) -> float:
    """Length of the boundaries of the areal parts (0 for points and lines, like PostGIS ST_Perimeter)."""
    rings = [shapely.boundary(p) for p in _parts(a.geom, 2)]
    return _measure_lines(a, rings)


def _measure_lines(a: Geom, lines: list[BaseGeometry]) -> float:
    if not lines:
        return 0.0
    if not is_geographic(a.crs):
        return float(sum(line.length for line in lines)) * linear_unit_m(a.crs)
    return float(sum(GEOD.geometry_length(transform(line, a.crs, CRS84_IRI)) for line in lines))


def length(a: Geom, unit: str, *, perimeter: bool = False) -> float:
    m = perimeter_m(a) if perimeter else length_m(a)
    if unit in LINEAR_UNITS:
        return m / LINEAR_UNITS[unit]
    raise ValueError(f"unsupported length unit {unit!r}")
