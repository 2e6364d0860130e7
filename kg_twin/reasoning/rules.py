"""The profile's rules as set-oriented SPARQL over the store.

Every rule has one premise, so all that a class or a property entails is known from the
profile tables (:mod:`.profile`): for each class and each property the data uses, one
``CONSTRUCT`` scans its triples once and its template fans out every entailment, evaluated by
the store next to the data (embedded or remote alike). The support check of a retraction
(:func:`support`) joins with the profile graph instead. This module only writes SPARQL text;
:mod:`.infer` decides which graphs play which part.

>>> from kg_twin.reasoning.profile import compile_profile
>>> q = class_query(compile_profile(["brick"]), "https://brickschema.org/schema/Brick#Zone_Air_Temperature_Sensor", ["http://t/g"])
>>> "?s a <https://brickschema.org/schema/Brick#Temperature_Sensor>" in q
True
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from kg_twin.reasoning.profile import HAS_TAG, KGI, Profile
from kg_twin.terms import RDF

TYPE = RDF + "type"


def _in(var: str, graphs: list[str]) -> str:
    if not graphs:
        return "FILTER(false)"
    return f"FILTER({var} IN ({', '.join(f'<{g}>' for g in graphs)}))"


def _values(var: str, graphs: list[str]) -> str:
    return f"VALUES {var} {{ {' '.join(f'<{g}>' for g in graphs)} }}"


def not_asserted(triple: str, asserted: list[str]) -> str:
    """``FILTER NOT EXISTS`` the triple in one of the ``asserted`` graphs (one index probe)."""
    return f"FILTER NOT EXISTS {{ GRAPH ?_h {{ {triple} }} {_in('?_h', asserted)} }}"


def _graphs(premises: list[str]) -> str:
    return _values("?_g", premises)


def used_classes(store: Any, premises: list[str]) -> list[str]:
    """Classes the ``premises`` graphs use in ``rdf:type`` triples."""
    rows = store.select(f"SELECT DISTINCT ?c WHERE {{ {_graphs(premises)} GRAPH ?_g {{ ?s <{TYPE}> ?c }} FILTER(isIRI(?c)) }}")
    return sorted(str(r["c"]) for r in rows)


def used_properties(store: Any, premises: list[str], candidates: Iterable[str]) -> list[str]:
    """The ``candidates`` (properties with a rule) the ``premises`` graphs use (one ASK each)."""
    return [p for p in sorted(candidates) if store.ask(f"ASK {{ {_graphs(premises)} GRAPH ?_g {{ ?s <{p}> ?o }} }}")]


def class_query(profile: Profile, cls: str, premises: list[str]) -> str | None:
    """CONSTRUCT of everything ``?s a <cls>`` entails (types and tags): one scan, fanned out by the template."""
    heads = [f"?s a <{d}>" for d in sorted(profile.type.get(cls, ()))] + [f"?s <{HAS_TAG}> <{t}>" for t in sorted(profile.tag.get(cls, ()))]
    if not heads:
        return None
    return f"CONSTRUCT {{ {' . '.join(heads)} }} WHERE {{ {_graphs(premises)} GRAPH ?_g {{ ?s <{TYPE}> <{cls}> }} }}"


def property_query(profile: Profile, prop: str, premises: list[str]) -> str | None:
    """CONSTRUCT of everything ``?s <prop> ?o`` entails. Template triples with a literal in
    subject position are not produced (SPARQL drops ill-formed template instances)."""
    heads = (
        [f"?s <{q}> ?o" for q in sorted(profile.fwd.get(prop, ()))]
        + [f"?o <{q}> ?s" for q in sorted(profile.inv.get(prop, ()))]
        + [f"?s a <{d}>" for d in sorted(profile.dom.get(prop, ()))]
        + [f"?o a <{d}>" for d in sorted(profile.rng.get(prop, ()))]
        + [f"?s <{HAS_TAG}> <{t}>" for t in sorted(profile.domtag.get(prop, ()))]
        + [f"?o <{HAS_TAG}> <{t}>" for t in sorted(profile.rngtag.get(prop, ()))]
    )
    if not heads:
        return None
    return f"CONSTRUCT {{ {' . '.join(heads)} }} WHERE {{ {_graphs(premises)} GRAPH ?_g {{ ?s <{prop}> ?o }} }}"


def rule_properties(profile: Profile) -> set[str]:
    return set(profile.fwd) | set(profile.inv) | set(profile.dom) | set(profile.rng) | set(profile.domtag) | set(profile.rngtag)


def derive_queries(store: Any, profile: Profile, premises: list[str]) -> Iterator[str]:
    """The CONSTRUCT queries that together give ``derive(premises)`` (with duplicates)."""
    if not premises:
        return
    for c in used_classes(store, premises):
        q = class_query(profile, c, premises)
        if q:
            yield q
    for p in used_properties(store, premises, rule_properties(profile)):
        q = property_query(profile, p, premises)
        if q:
            yield q


def support(premises: list[str], profile: str, tags_graph: str) -> str:
    """A group pattern that matches when ``?s ?p ?o`` is entailed by the ``premises`` graphs
    (or is a tag-to-class entailment kept in ``tags_graph``)."""
    g = _in("?_g", premises)
    prof = f"GRAPH <{profile}>"
    alts = [  # data pattern first: the subject (and object) are bound, so it is a short index scan
        f"{{ FILTER(?p = <{TYPE}>) GRAPH ?_g {{ ?s <{TYPE}> ?x }} {g} {prof} {{ ?x <{KGI}type> ?o }} }}",
        f"{{ FILTER(?p = <{TYPE}>) GRAPH ?_g {{ ?s ?x ?_o }} {g} {prof} {{ ?x <{KGI}dom> ?o }} }}",
        f"{{ FILTER(?p = <{TYPE}>) GRAPH ?_g {{ ?_o ?x ?s }} {g} {prof} {{ ?x <{KGI}rng> ?o }} }}",
        f"{{ FILTER(?p = <{HAS_TAG}>) GRAPH ?_g {{ ?s <{TYPE}> ?x }} {g} {prof} {{ ?x <{KGI}tag> ?o }} }}",
        f"{{ FILTER(?p = <{HAS_TAG}>) GRAPH ?_g {{ ?s ?x ?_o }} {g} {prof} {{ ?x <{KGI}domtag> ?o }} }}",
        f"{{ FILTER(?p = <{HAS_TAG}>) GRAPH ?_g {{ ?_o ?x ?s }} {g} {prof} {{ ?x <{KGI}rngtag> ?o }} }}",
        f"{{ GRAPH ?_g {{ ?s ?x ?o }} {g} {prof} {{ ?x <{KGI}fwd> ?p }} }}",
        f"{{ GRAPH ?_g {{ ?o ?x ?s }} {g} {prof} {{ ?x <{KGI}inv> ?p }} }}",
        f"{{ GRAPH <{tags_graph}> {{ ?s ?p ?o }} }}",
    ]
    return "{ " + "\n UNION ".join(alts) + " }"


__all__ = ["class_query", "derive_queries", "property_query", "used_classes", "used_properties", "not_asserted", "support"]
