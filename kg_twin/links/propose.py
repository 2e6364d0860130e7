"""Propose a link specification for two graphs from what they hold (an editable starting point).

The common pairs: Brick (or any model) referencing IFC GlobalIds -> the IFC objects (``owl:sameAs`` on
identifiers); buildings with footprints on both sides (BD TOPO, CityJSON, CityGML, OSM: ``owl:sameAs``
on overlap and distance, identity only at a high score); zones -> the buildings inside them
(``bot:containsZone``); points of a point list -> the spaces their names mention (``brick:hasLocation``);
anything else with labels (``skos:closeMatch`` on label similarity).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from kg_twin.access import Caller
from kg_twin.core import Core
from kg_twin.errors import InputError
from kg_twin.links.spec import spec_from_dict
from kg_twin.store.base import Dataset
from kg_twin.terms import BOT, BRICK, DCTERMS, GEO, RDFS, REF

_COUNTS = f"""SELECT
  (COUNT(DISTINCT ?b) AS ?buildings) (COUNT(DISTINCT ?f) AS ?features) (COUNT(DISTINCT ?r) AS ?refs)
  (COUNT(DISTINCT ?s) AS ?spaces) (COUNT(DISTINCT ?p) AS ?points) (COUNT(DISTINCT ?l) AS ?labelled) (COUNT(DISTINCT ?i) AS ?identified)
WHERE {{
  {{ ?b a <{BOT}Building> ; <{GEO}hasDefaultGeometry>|<{GEO}hasGeometry> ?_g1 }}
  UNION {{ ?f a <{GEO}Feature> ; <{GEO}hasDefaultGeometry>|<{GEO}hasGeometry> ?_g2 FILTER NOT EXISTS {{ ?f a <{BOT}Building> }} }}
  UNION {{ ?r <{REF}hasExternalReference>/<{REF}ifcGlobalID> ?_x }}
  UNION {{ ?s a <{BOT}Space> }}
  UNION {{ ?p a ?_c ; <{RDFS}label> ?_pl FILTER(STRSTARTS(STR(?_c), "{BRICK}") && REGEX(STR(?_c), "(Sensor|Setpoint|Command|Status|Alarm|Point)$")) }}
  UNION {{ ?l <{RDFS}label> ?_l }}
  UNION {{ ?i <{DCTERMS}identifier> ?_i }}
}}"""


def _profile(core: Core, project: str, graph: str) -> dict[str, int]:
    stored = core.naming.resolve_graph(project, graph)
    if stored not in core.project_graphs(project, include_inferred=False):
        raise InputError("LINK_GRAPH_NOT_FOUND", f"graph {graph!r} not found in project {project!r}", hint=f"list the project's graphs with `kg-twin project show {project}`")
    rows = core.store.select(_COUNTS, dataset=Dataset((stored,), ()))
    return {k: int(v) for k, v in rows[0].items()} if rows else {}


def _name(source: str, target: str) -> str:
    """A specification name from two graph names: ``bdtopo-to-footprints``."""
    def slug(g: str) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "-", g.rstrip("/").rsplit("/", 1)[-1]).strip("-")[:28] or "graph"

    return f"{slug(source)}-to-{slug(target)}"


def propose(core: Core, project: str, source: str, target: str, caller: Caller | None = None, *, name: str | None = None) -> dict[str, Any]:
    """A specification (as a dict ready for YAML) linking graph ``source`` to graph ``target`` of ``project``."""
    if caller is not None:
        core.access.require(caller, project, "reader")
    a, b = _profile(core, project, source), _profile(core, project, target)
    spec: dict[str, Any] = {"name": name or _name(source, target), "description": ""}
    side_a: dict[str, Any] = {"graphs": [source]}
    side_b: dict[str, Any] = {"graphs": [target]}
    if a.get("refs") and b.get("identified"):
        spec["description"] = "entities referencing IFC GlobalIds -> the IFC objects with those GlobalIds"
        side_a["id"] = "ref:hasExternalReference/ref:ifcGlobalID"
        side_b["id"] = "dcterms:identifier"
        rest = {"measures": [{"type": "id", "normalise": "globalid"}], "relation": "owl:sameAs", "accept": 1.0, "review": 1.0, "match": "one_to_one"}
    elif a.get("buildings") and b.get("buildings"):
        spec["description"] = "the same buildings in two sources, by footprint overlap (IoU) and centroid distance"
        side_a["class"] = side_b["class"] = "bot:Building"
        rest = {"measures": [{"type": "iou", "weight": 2}, {"type": "distance", "max": 10, "weight": 1}], "relation": "owl:sameAs",
                "identity": 0.75, "accept": 0.55, "review": 0.35, "match": "one_to_one"}
    elif a.get("features") and b.get("buildings"):
        spec["description"] = "zones -> the buildings at least half inside them"
        side_a["class"] = "geo:Feature"
        side_b["class"] = "bot:Building"
        rest = {"measures": [{"type": "contains"}], "relation": "bot:containsZone", "accept": 0.5, "review": 0.2, "match": "best_per_target"}
    elif a.get("points") and b.get("spaces"):
        spec["description"] = "points -> the spaces their names mention (room numbers)"
        side_a["label"] = side_b["label"] = "rdfs:label"
        side_b["class"] = "bot:Space"
        rest = {"measures": [{"type": "room"}], "relation": "brick:hasLocation", "accept": 0.9, "review": 0.6, "match": "best_per_source"}
    elif a.get("labelled") and b.get("labelled"):
        spec["description"] = "entities with similar labels"
        side_a["label"] = side_b["label"] = "rdfs:label"
        rest = {"measures": [{"type": "label"}], "relation": "skos:closeMatch", "accept": 0.95, "review": 0.8, "match": "one_to_one"}
    else:
        raise InputError("LINK_NOTHING_TO_PROPOSE", f"graphs {source!r} and {target!r} share nothing a specification could compare (no identifiers, geometries or labels)",
                         hint="write a specification by hand (docs/links.md)")
    spec.update({"source": side_a, "target": side_b, **rest})
    spec_from_dict(spec, where="proposed specification")  # what is proposed always parses
    return {"spec": spec, "yaml": yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), "profile": {"source": a, "target": b}}

