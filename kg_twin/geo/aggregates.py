"""GeoSPARQL 1.1 aggregate functions (``geof:aggUnion`` ...) as custom SPARQL aggregates.

Each is an :class:`kg_twin.store.functions.Aggregate`: the group's geometry literals (WKT or GML,
any CRS) are collected in the CRS of the first one (the others reprojected), and the result is a
literal of the first one's datatype in that CRS. A non-geometry value makes the group's result unbound.

>>> from kg_twin.rdf import Literal
>>> W = "http://www.opengis.net/ont/geosparql#wktLiteral"
>>> acc = Collect(shapely.convex_hull)
>>> for t in ("POINT(0 0)", "POINT(2 0)", "POINT(0 2)"):
...     acc.add(Literal(t, W))
>>> acc.result().value
'POLYGON ((0 0, 0 2, 2 0, 0 0))'
"""

from __future__ import annotations

from typing import Any, Callable

import shapely
from shapely.geometry.base import BaseGeometry

from kg_twin.geo.literals import Geom, from_term, literal_of
from kg_twin.store.functions import Aggregate

GEOF = "http://www.opengis.net/def/function/geosparql/"


class Collect:
    """Accumulator: geometries in the first one's CRS; ``op(GeometryCollection)`` at the end."""

    def __init__(self, op: Callable[[BaseGeometry], BaseGeometry]) -> None:
        self.op = op
        self.parts: list[BaseGeometry] = []
        self.crs: str | None = None
        self.datatype = ""

    def add(self, term: Any) -> None:
        g = from_term(term)
        if self.crs is None:
            self.crs, self.datatype = g.crs, term.datatype
        self.parts.append(g.in_crs(self.crs).geom)

    def result(self) -> Any:
        if self.crs is None:
            return None
        return literal_of(Geom(self.op(shapely.GeometryCollection(self.parts)), self.crs), self.datatype)


def _union(g: BaseGeometry) -> BaseGeometry:
    return shapely.union_all(list(g.geoms))


class _Factory:
    """Picklable factory of one aggregate's accumulators."""

    def __init__(self, op: Callable[[BaseGeometry], BaseGeometry]) -> None:
        self.op = op

    def __call__(self) -> Collect:
        return Collect(self.op)


def _concave(g: BaseGeometry) -> BaseGeometry:
    return shapely.concave_hull(g, ratio=0.5)


AGGREGATES: dict[str, Any] = {
    GEOF + "aggUnion": Aggregate(_Factory(_union)),
    GEOF + "aggConvexHull": Aggregate(_Factory(shapely.convex_hull)),
    GEOF + "aggConcaveHull": Aggregate(_Factory(_concave)),
    GEOF + "aggBoundingBox": Aggregate(_Factory(shapely.envelope)),
    GEOF + "aggBoundingCircle": Aggregate(_Factory(shapely.minimum_bounding_circle)),
    GEOF + "aggCentroid": Aggregate(_Factory(shapely.centroid)),
}
