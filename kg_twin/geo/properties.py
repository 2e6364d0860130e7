"""GeoSPARQL 1.1 properties of a geometry as data: what a mapper writes next to ``geo:asWKT``.

``geo:hasMetricArea`` (areal parts, m²), ``geo:hasMetricPerimeterLength`` (their boundaries, m),
``geo:hasMetricLength`` (linear parts, m), ``geo:dimension``, ``geo:coordinateDimension``,
``geo:spatialDimension``, ``geo:isEmpty``, ``geo:isSimple`` - with the definitions of
:mod:`kg_twin.geo.metric` (geodesic on WGS84 for geographic CRSs, planar in projected ones), so the
data and the ``geof:metric*`` functions agree. A measure that is 0 by definition (the area of a line)
is left out.

>>> for p, v in properties("POLYGON((0 0, 30 0, 30 40, 0 40, 0 0))", crs="http://www.opengis.net/def/crs/EPSG/0/2154"):
...     print(p.rsplit("#", 1)[1], v.value)
hasMetricArea 1200.0
hasMetricPerimeterLength 140.0
dimension 2
coordinateDimension 2
spatialDimension 2
isEmpty false
isSimple true
"""

from __future__ import annotations

import shapely

from kg_twin.geo import metric
from kg_twin.geo.literals import CRS84_IRI, Geom, parse_wkt
from kg_twin.rdf import Literal

GEO = "http://www.opengis.net/ont/geosparql#"


def properties(wkt: str, *, crs: str | None = None) -> list[tuple[str, Literal]]:
    """(property IRI, literal) pairs for one WKT geometry (``crs``: when the WKT has no CRS prefix
    and is not CRS84). ValueError when the WKT does not parse."""
    g = parse_wkt(wkt)
    if crs is not None and g.crs == CRS84_IRI and not wkt.lstrip().startswith("<"):
        g = Geom(g.geom, crs)
    out: list[tuple[str, Literal]] = []
    if not g.geom.is_empty:
        area = metric.area_m2(g) if shapely.get_dimensions(g.geom) == 2 else 0.0
        perimeter = metric.perimeter_m(g)
        length = metric.length_m(g)
        for name, v in (("hasMetricArea", area), ("hasMetricPerimeterLength", perimeter), ("hasMetricLength", length)):
            if v > 0:
                out.append((GEO + name, Literal.of(round(v, 6))))
    dim = -1 if g.geom.is_empty else int(shapely.get_dimensions(g.geom))
    has_z = " Z" in wkt.upper()[:40] or "Z(" in wkt.upper()[:40]
    out += [
        (GEO + "dimension", Literal.of(dim)),
        (GEO + "coordinateDimension", Literal.of(3 if has_z else 2)),
        (GEO + "spatialDimension", Literal.of(3 if has_z else 2)),
        (GEO + "isEmpty", Literal.of(bool(g.geom.is_empty))),
        (GEO + "isSimple", Literal.of(bool(shapely.is_simple(g.geom)))),
    ]
    return out
