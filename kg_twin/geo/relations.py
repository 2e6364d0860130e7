"""Opt-in: CRS-aware simple-features relations (shapely) instead of pyoxigraph's built-in ones.

Enable with ``KG_TWIN_SPARQL_EXTENSIONS=kg_twin.geo.relations``. They accept any CRS IRI prefix
(reprojected with pyproj, EPSG:4326 in latitude/longitude order); they cost a Python call per
evaluation (6-8x the time of the built-in relations, see docs/queries.md).
"""

from __future__ import annotations

from kg_twin.geo.functions import RELATIONS
from kg_twin.store.functions import sparql_function

for _iri, _fn in RELATIONS.items():
    sparql_function(_iri)(_fn)
