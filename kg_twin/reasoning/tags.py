"""Brick's tag-to-class rule: an entity whose asserted tag set is exactly the tag set of one
Brick class is an instance of that class (tag sets shared by several classes are ambiguous and
left alone).

The rule needs every tag of an entity at once, so it is evaluated per entity: the store
returns only ``brick:hasTag`` triples (of all entities, or of the entities a change touched)
and the lookup runs on the profile's tag-set table.

>>> from kg_twin.reasoning.profile import compile_profile
>>> T = "https://brickschema.org/schema/BrickTag#"
>>> classes_for({T + t for t in ("Zone", "Air", "Temperature", "Sensor", "Point")}, compile_profile(["brick"]))
['https://brickschema.org/schema/Brick#Zone_Air_Temperature_Sensor']
"""

from __future__ import annotations

from typing import Any, Iterable

from rdflib import URIRef

from kg_twin.reasoning.profile import HAS_TAG, Profile
from kg_twin.terms import TAG


def classes_for(tags: set[str], profile: Profile) -> list[str]:
    """The Brick classes whose own tag set is exactly ``tags``."""
    return sorted(profile.tagsets.get(frozenset(t for t in tags if t.startswith(TAG)), ()))


def tag_classes(store: Any, premises: list[str], profile: Profile, subjects: Iterable[str] | None = None) -> tuple[set[tuple[str, str]], int]:
    """``{(entity, class)}`` from the tags asserted in ``premises`` (only for ``subjects`` when
    given), and how many entities had an ambiguous tag set."""
    if not premises:
        return set(), 0
    graphs = " ".join(f"<{g}>" for g in premises)
    subj = ""
    if subjects is not None:
        subs = sorted(set(subjects))
        if not subs:
            return set(), 0
        subj = "VALUES ?s { " + " ".join(f"<{s}>" for s in subs) + " }"
    rows = store.select(f"SELECT ?s ?t WHERE {{ {subj} VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s <{HAS_TAG}> ?t }} FILTER(isIRI(?s) && isIRI(?t)) }}")
    tags: dict[str, set[str]] = {}
    for r in rows:
        s, t = r["s"], r["t"]
        if isinstance(s, URIRef) and isinstance(t, URIRef):
            tags.setdefault(str(s), set()).add(str(t))
    out: set[tuple[str, str]] = set()
    ambiguous = 0
    for s, ts in tags.items():
        found = classes_for(ts, profile)
        if len(found) == 1:
            out.add((s, found[0]))
        elif len(found) > 1:
            ambiguous += 1
    return out, ambiguous


__all__ = ["classes_for", "tag_classes"]
