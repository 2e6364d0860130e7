"""Coordinates vs. their declared extent: a wrong CRS or swapped axes, told before anything is stored.

:func:`check_crs_extent` compares a layer's coordinates, read in the CRS the source declares (or
``--crs``), with that CRS's area of use (pyproj, EPSG's bounds in degrees). Coordinates outside it
mean the CRS is wrong or the axes are swapped; the finding says which reading would fit
(lat/lon swapped, degrees in a projected CRS, metres in a geographic one).
:func:`check_project_extent` compares a layer's CRS84 bounds with the bounds of what the project
already holds: a layer hundreds of kilometres away is reported.

>>> check_crs_extent([(650000.0, 6360000.0)], "EPSG:2154")  # Lambert-93, in France
[]
>>> f = check_crs_extent([(6360000.0, 650000.0)], "EPSG:2154")  # easting / northing swapped
>>> f[0]["code"], "swapped" in f[0]["message"]
('OUTSIDE_CRS_AREA', True)
>>> "degrees" in check_crs_extent([(2.55, 44.35)], "EPSG:2154")[0]["message"]
True
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Iterable, Sequence

Bounds = tuple[float, float, float, float]  # west, south, east, north (degrees)
MARGIN_DEG = 0.5  # EPSG's bounds are approximate: a little outside is not an error
FAR_KM = 100.0  # a layer farther than this from the project's features is reported


@lru_cache(maxsize=64)
def _crs_info(crs: str) -> tuple[Bounds | None, bool, str]:
    """(area of use, is geographic, name) of a CRS given as EPSG:n, a URI or WKT."""
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    a = c.area_of_use
    bounds = (a.west, a.south, a.east, a.north) if a is not None else None
    return bounds, bool(c.is_geographic), c.name


def _to_degrees(points: Sequence[tuple[float, float]], crs: str) -> list[tuple[float, float]]:
    from pyproj import Transformer

    t = Transformer.from_crs(crs, "OGC:CRS84", always_xy=True)
    xs, ys = t.transform([p[0] for p in points], [p[1] for p in points])
    return [(x, y) for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y)]


def _inside(p: tuple[float, float], b: Bounds) -> bool:
    w, s, e, n = b
    if w > e:  # crosses the antimeridian
        return (p[0] >= w - MARGIN_DEG or p[0] <= e + MARGIN_DEG) and s - MARGIN_DEG <= p[1] <= n + MARGIN_DEG
    return w - MARGIN_DEG <= p[0] <= e + MARGIN_DEG and s - MARGIN_DEG <= p[1] <= n + MARGIN_DEG


def sample(points: Iterable[tuple[float, float]], limit: int = 2000) -> list[tuple[float, float]]:
    out = []
    for i, p in enumerate(points):
        if i >= limit:
            break
        out.append((float(p[0]), float(p[1])))
    return out


def _fits_swapped(points: Sequence[tuple[float, float]], crs: str, bounds: Bounds) -> bool:
    swapped = [(y, x) for x, y in points]
    try:
        deg = _to_degrees(swapped, crs)
    except Exception:  # noqa: BLE001 - pyproj raises several kinds for impossible inputs
        return False
    return len(deg) == len(swapped) and all(_inside(p, bounds) for p in deg)


def check_crs_extent(points: Sequence[tuple[float, float]], crs: str) -> list[dict[str, Any]]:
    """Findings (``code``, ``message``, ``hint``, ``outside``, ``checked``) for coordinates in ``crs``
    (x/y in the CRS's traditional GIS order: lon/lat, easting/northing) outside its area of use."""
    if not points:
        return []
    bounds, geographic, name = _crs_info(crs)
    if bounds is None:
        return []
    deg = _to_degrees(points, crs) if not geographic else [(x, y) for x, y in points]
    outside = [p for p in deg if not _inside(p, bounds)] if len(deg) == len(points) else list(points)
    if not outside:
        return []
    share = len(outside) / len(points)
    w, s, e, n = bounds
    where = f"{name} is used within lon {w:.1f}..{e:.1f}, lat {s:.1f}..{n:.1f}"
    hint = "check the CRS the source declares or pass the right one with --crs EPSG:CODE"
    guess = ""
    if _fits_swapped(points[:200], crs, bounds):
        guess = "the coordinates fit if the two axes are swapped (lat/lon for lon/lat, northing for easting)"
        hint = "the source writes its axes in the other order: fix the axis order in the source"
    elif geographic and any(abs(x) > 180 or abs(y) > 90 for x, y in points):
        guess = "the values are too large for degrees: they look like projected coordinates (metres)"
        hint = "pass the projected CRS the source uses with --crs EPSG:CODE (e.g. EPSG:2154 for Lambert-93)"
    elif not geographic and all(abs(x) <= 180 and abs(y) <= 90 for x, y in points[:200]):
        guess = "the values look like degrees, not projected coordinates"
        hint = "pass --crs EPSG:4326 (or OGC:CRS84) if the coordinates are longitude/latitude"
    msg = f"{len(outside)} of {len(points)} coordinates checked ({share:.0%}) are outside the area of use of the declared CRS: {where}"
    return [{"code": "OUTSIDE_CRS_AREA", "message": msg + (f"; {guess}" if guess else ""), "hint": hint,
             "outside": len(outside), "checked": len(points)}]


def crs84_bounds(points: Sequence[tuple[float, float]], crs: str) -> Bounds | None:
    """Bounds in degrees of coordinates given in ``crs`` (None when none transforms)."""
    deg = _to_degrees(points, crs) if points else []
    return bounds_of(p for p in deg if -180 <= p[0] <= 180 and -90 <= p[1] <= 90)


def project_bounds(store: Any, graphs: Sequence[str], limit: int = 2000) -> Bounds | None:
    """Bounds in degrees of (up to ``limit``) CRS84 geometries already in these graphs."""
    import shapely

    if not graphs:
        return None
    values = " ".join(f"<{g}>" for g in graphs)
    rows = store.select(
        "SELECT ?w WHERE { VALUES ?g { " + values + " } GRAPH ?g { ?x <http://www.opengis.net/ont/geosparql#asWKT> ?w } } LIMIT " + str(int(limit))
    )
    pts: list[tuple[float, float]] = []
    for r in rows:
        text = str(r["w"]).strip()
        if text.startswith("<"):
            if not text.startswith("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"):
                continue  # another CRS: not comparable in degrees here
            text = text.split(">", 1)[1]
        try:
            g = shapely.from_wkt(text)
        except Exception:  # noqa: BLE001 - shapely raises GEOSException for bad WKT; a bad literal is skipped
            continue
        if g is not None and not g.is_empty:
            x0, y0, x1, y1 = g.bounds
            pts += [(x0, y0), (x1, y1)]
    return bounds_of(pts)


def bounds_of(points: Iterable[tuple[float, float]]) -> Bounds | None:
    pts = list(points)
    if not pts:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def distance_km(a: Bounds, b: Bounds) -> float:
    """Great-circle distance between two bounding boxes (0 when they overlap), in km.

    >>> round(distance_km((2.5, 44.3, 2.6, 44.4), (4.8, 45.7, 4.9, 45.8)))
    225
    """
    dx = max(0.0, b[0] - a[2], a[0] - b[2])
    dy = max(0.0, b[1] - a[3], a[1] - b[3])
    if dx == 0 and dy == 0:
        return 0.0
    lat = math.radians((max(a[1], b[1]) + min(a[3], b[3])) / 2)
    return 6371.0 * math.radians(math.hypot(dx * math.cos(lat), dy))


def check_project_extent(layer: Bounds | None, project: Bounds | None, *, far_km: float = FAR_KM) -> list[dict[str, Any]]:
    """A finding when a layer lies farther than ``far_km`` from what the project already holds."""
    if layer is None or project is None:
        return []
    d = distance_km(layer, project)
    if d <= far_km:
        return []
    return [{"code": "FAR_FROM_PROJECT", "message": f"the layer lies {d:.0f} km from the project's other features "
             f"(layer lon {layer[0]:.3f}..{layer[2]:.3f}, lat {layer[1]:.3f}..{layer[3]:.3f}; project lon {project[0]:.3f}..{project[2]:.3f}, "
             f"lat {project[1]:.3f}..{project[3]:.3f})", "hint": "check the CRS (--crs EPSG:CODE) or the project (--project)", "distance_km": round(d, 1)}]
