"""GeoSPARQL topological relations: the Simple Features, Egenhofer and RCC8 families and
``geof:relate``, each defined by its DE-9IM intersection pattern(s) (GeoSPARQL 1.0, clause 7 /
1.1, clause 9), evaluated with GEOS (``shapely.relate_pattern``).

Both arguments may be WKT or GML literals in any EPSG CRS (or CRS84): the second is reprojected to
the CRS of the first, as GeoSPARQL says, and the relation is evaluated there.

>>> from kg_twin.rdf import Literal
>>> W = "http://www.opengis.net/ont/geosparql#wktLiteral"
>>> sq = Literal("POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))", W)
>>> RELATIONS[GEOF + "ehInside"](Literal("POINT(1 1)", W), sq), RELATIONS[GEOF + "rcc8ec"](sq, Literal("POLYGON((2 0, 3 0, 3 1, 2 1, 2 0))", W))
(True, True)
>>> relate(sq, Literal("POINT(1 1)", W), Literal("T*****FF*"))
True
"""

from __future__ import annotations

from typing import Any

import shapely

from kg_twin.geo.literals import from_term

GEOF = "http://www.opengis.net/def/function/geosparql/"
GEO = "http://www.opengis.net/ont/geosparql#"

# relation name -> DE-9IM patterns (true when any matches), from the GeoSPARQL tables
PATTERNS: dict[str, tuple[str, ...]] = {
    # Simple Features
    "sfEquals": ("TFFFTFFFT",),
    "sfDisjoint": ("FF*FF****",),
    "sfIntersects": ("T********", "*T*******", "***T*****", "****T****"),
    "sfTouches": ("FT*******", "F**T*****", "F***T****"),
    "sfWithin": ("T*F**F***",),
    "sfContains": ("T*****FF*",),
    "sfOverlaps": ("T*T***T**",),
    "sfCrosses": ("T*T******",),
    # Egenhofer
    "ehEquals": ("TFFFTFFFT",),
    "ehDisjoint": ("FF*FF****",),
    "ehMeet": ("FT*******", "F**T*****", "F***T****"),
    "ehOverlap": ("T*T***T**",),
    "ehCovers": ("T*TFT*FF*",),
    "ehCoveredBy": ("TFF*TFT**",),
    "ehInside": ("TFF*FFT**",),
    "ehContains": ("T*TFF*FF*",),
    # RCC8
    "rcc8eq": ("TFFFTFFFT",),
    "rcc8dc": ("FFTFFTTTT",),
    "rcc8ec": ("FFTFTTTTT",),
    "rcc8po": ("TTTTTTTTT",),
    "rcc8tppi": ("TTTFTTFFT",),
    "rcc8tpp": ("TFFTTFTTT",),
    "rcc8ntpp": ("TFFTFFTTT",),
    "rcc8ntppi": ("TTTFFTFFT",),
}

# relations that can only hold when the two bounding boxes intersect (index candidates are exact supersets)
BBOX_BOUND = frozenset(n for n in PATTERNS if n not in ("sfDisjoint", "ehDisjoint", "rcc8dc"))


def _pair(a: Any, b: Any) -> tuple[Any, Any]:
    ga = from_term(a)
    gb = from_term(b).in_crs(ga.crs)
    return ga.geom, gb.geom


def holds(name: str, ga: Any, gb: Any) -> bool:
    """Whether relation ``name`` holds between two shapely geometries (same CRS)."""
    if ga.is_empty or gb.is_empty:
        return name in ("sfDisjoint", "ehDisjoint", "rcc8dc")
    named = _NAMED.get(name)
    if named is not None:  # GEOS's named predicates compute the same patterns without the whole matrix
        return bool(named(ga, gb))
    matrix = shapely.relate(ga, gb)
    return any(_match(matrix, p) for p in PATTERNS[name])


# sfCrosses / sfOverlaps: the OGC Simple Features definitions, which depend on the dimensions
# (GeoSPARQL's single patterns T*T****** / T*T***T** are those of the area cases)
_NAMED = {"sfEquals": shapely.equals, "sfDisjoint": shapely.disjoint, "sfIntersects": shapely.intersects, "sfTouches": shapely.touches,
          "sfWithin": shapely.within, "sfContains": shapely.contains, "sfCrosses": shapely.crosses, "sfOverlaps": shapely.overlaps}


def _match(matrix: str, pattern: str) -> bool:
    for m, p in zip(matrix, pattern):
        if p == "*":
            continue
        if p == "T":
            if m == "F":
                return False
        elif p == "F":
            if m != "F":
                return False
        elif m != p:
            return False
    return True


class Relation:
    """A topological relation function on two geometry literals (module-level class: picklable)."""

    def __init__(self, name: str) -> None:
        self.__name__ = name
        self.name = name

    def __call__(self, a: Any, b: Any) -> bool:
        ga, gb = _pair(a, b)
        return holds(self.name, ga, gb)


def relate(a: Any, b: Any, pattern: Any) -> bool:
    """``geof:relate``: whether the DE-9IM matrix of ``a`` and ``b`` matches ``pattern`` (9 of T F * 0 1 2)."""
    p = str(getattr(pattern, "value", pattern)).strip().upper()
    if len(p) != 9 or any(c not in "TF*012" for c in p):
        raise ValueError(f"not a DE-9IM pattern: {p!r}")
    ga, gb = _pair(a, b)
    return _match(shapely.relate(ga, gb), p)


RELATIONS: dict[str, Any] = {GEOF + n: Relation(n) for n in PATTERNS}
RELATIONS[GEOF + "relate"] = relate
SF_NAMES = tuple(n for n in PATTERNS if n.startswith("sf"))
