"""The entailment profile, compiled once per ontology version into small rule tables.

The profile (``docs/semantics.md``) is made of rules with **one premise** each, so that every
entailment about the data is one join between one asserted triple and one row of a table
computed here from the (small) ontology bundle:

========  ======================================  =========================================
table     row ``(x, y)`` means                    entailment
========  ======================================  =========================================
type      ``y`` is a strict superclass of class   ``s a x``  =>  ``s a y``
          ``x`` (``rdfs:subClassOf*``,
          ``owl:equivalentClass``, ``brick:aliasOf``,
          ``brick:isReplacedBy`` of a deprecated
          class, Brick ``rdf:type`` triple rules)
tag       ``y`` is a Brick tag of ``x`` or of a   ``s a x``  =>  ``s brick:hasTag y``
          superclass (Brick's class-to-tag rules)
fwd       ``y`` is a super-property of ``x``      ``s x o``  =>  ``s y o``
          (``rdfs:subPropertyOf*``,
          ``owl:equivalentProperty``, through
          inverses)
inv       ``y`` is an inverse of ``x`` or of one  ``s x o``  =>  ``o y s``
          of its super-properties
          (``owl:inverseOf``, ``owl:SymmetricProperty``)
dom       ``y`` is a domain class of ``x`` or of  ``s x o``  =>  ``s a y``
          what ``x`` entails (``rdfs:domain``,
          ranges of the inverses), with superclasses
rng       the same for the object                 ``s x o``  =>  ``o a y`` (``o`` not a literal)
domtag    tags of the ``dom`` classes             ``s x o``  =>  ``s brick:hasTag y``
rngtag    tags of the ``rng`` classes             ``s x o``  =>  ``o brick:hasTag y``
========  ======================================  =========================================

Brick's tag-to-class rule (an entity whose asserted tag set is exactly the tag set of one Brick
class gets that class) needs all the tags of one entity: :attr:`Profile.tagsets` serves the
lookup in :mod:`kg_twin.reasoning.tags`.

The tables are stored as triples (``x kgi:type y`` ...) in one hidden graph of the store
(:func:`profile_graph`), so the rules run as joins inside the store, on any SPARQL engine.

>>> p = compile_profile(["brick"])
>>> B = "https://brickschema.org/schema/Brick#"
>>> B + "Temperature_Sensor" in p.type[B + "Zone_Air_Temperature_Sensor"]
True
>>> B + "isPointOf" in p.inv[B + "hasPoint"]
True
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

import rdflib
from rdflib import URIRef

from kg_twin.ontologies import bundle_hash, load_ontology_closure, module_closure
from kg_twin.terms import BRICK, OWL, RDF, RDFS

#: Namespace of the rule-table predicates in the profile graph (never seen by clients).
KGI = "https://w3id.org/kg-twin/inference#"
PROFILE_VERSION = "1"  # bump when the compilation below changes
SH = "http://www.w3.org/ns/shacl#"
HAS_TAG = BRICK + "hasTag"

#: Classes every resource has: entailing them says nothing (left out, as OWL 2 RL tools do).
NOISE_CLASSES = frozenset(
    {OWL + "Thing", OWL + "NamedIndividual", RDFS + "Resource", OWL + "Nothing", RDFS + "Class", OWL + "Class"}
)
_DATATYPE_NS = ("http://www.w3.org/2001/XMLSchema#",)
_LITERAL_CLASSES = frozenset({RDFS + "Literal", RDF + "langString", RDF + "PlainLiteral", RDFS + "Datatype"})

TABLES = ("type", "tag", "fwd", "inv", "dom", "rng", "domtag", "rngtag")


@dataclass
class Profile:
    """Rule tables of one ontology version (see module doc)."""

    modules: list[str]
    digest: str
    type: dict[str, set[str]] = field(default_factory=dict)
    tag: dict[str, set[str]] = field(default_factory=dict)
    fwd: dict[str, set[str]] = field(default_factory=dict)
    inv: dict[str, set[str]] = field(default_factory=dict)
    dom: dict[str, set[str]] = field(default_factory=dict)
    rng: dict[str, set[str]] = field(default_factory=dict)
    domtag: dict[str, set[str]] = field(default_factory=dict)
    rngtag: dict[str, set[str]] = field(default_factory=dict)
    #: frozenset of tags -> the Brick classes whose own tag set it is (tag-to-class lookup)
    tagsets: dict[frozenset[str], set[str]] = field(default_factory=dict)

    def table(self, name: str) -> dict[str, set[str]]:
        return {"type": self.type, "tag": self.tag, "fwd": self.fwd, "inv": self.inv, "dom": self.dom, "rng": self.rng, "domtag": self.domtag, "rngtag": self.rngtag}[name]

    def rows(self) -> int:
        return sum(len(v) for t in TABLES for v in self.table(t).values())

    def ntriples(self) -> bytes:
        """The tables as N-Triples (``<x> kgi:<table> <y>``), the content of the profile graph."""
        out = []
        for t in TABLES:
            pred = f"<{KGI}{t}>"
            for x, ys in sorted(self.table(t).items()):
                out.extend(f"<{x}> {pred} <{y}> .\n" for y in sorted(ys))
        out.append(f"<{KGI}profile> <{KGI}digest> \"{self.digest}\" .\n")
        return "".join(out).encode("utf-8")


def _iri(t: object) -> str | None:
    return str(t) if isinstance(t, URIRef) else None


def _closure(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        x = todo.pop()
        for y in edges.get(x, ()):
            if y not in seen:
                seen.add(y)
                todo.append(y)
    seen.discard(start)
    return seen


def _pairs(g: rdflib.Graph, pred: str) -> list[tuple[str, str]]:
    out = []
    for s, o in g.subject_objects(URIRef(pred)):
        a, b = _iri(s), _iri(o)
        if a and b:
            out.append((a, b))
    return out


def _compile(g: rdflib.Graph, modules: list[str], digest: str) -> Profile:
    p = Profile(modules=modules, digest=digest)
    # ---- classes: subclass / equivalence / alias / replacement / rdf:type triple rules
    sup: dict[str, set[str]] = defaultdict(set)
    for a, b in _pairs(g, RDFS + "subClassOf"):
        sup[a].add(b)
    for pred in (OWL + "equivalentClass", BRICK + "aliasOf"):
        for a, b in _pairs(g, pred):
            sup[a].add(b)
            sup[b].add(a)
    deprecated = {str(s) for s in g.subjects(URIRef(OWL + "deprecated"), None) if isinstance(s, URIRef)}
    for a, b in _pairs(g, BRICK + "isReplacedBy"):
        if a in deprecated:
            sup[a].add(b)
    own_tags: dict[str, set[str]] = defaultdict(set)
    for cls, rule in g.subject_objects(URIRef(SH + "rule")):
        c = _iri(cls)
        if c is None or (rule, URIRef(RDF + "type"), URIRef(SH + "TripleRule")) not in g:
            continue
        if g.value(rule, URIRef(SH + "subject")) != URIRef(SH + "this"):
            continue
        pred, obj = _iri(g.value(rule, URIRef(SH + "predicate"))), _iri(g.value(rule, URIRef(SH + "object")))
        if pred == HAS_TAG and obj:
            own_tags[c].add(obj)
        elif pred == RDF + "type" and obj:
            sup[c].add(obj)
    classes = set(sup) | {y for ys in sup.values() for y in ys} | set(own_tags)
    for c in classes:
        ups = {d for d in _closure(sup, c) if d not in NOISE_CLASSES}
        if ups:
            p.type[c] = ups
        tags = set(own_tags.get(c, ()))
        for d in ups:
            tags |= own_tags.get(d, set())
        if tags:
            p.tag[c] = tags
    for c, tags in own_tags.items():
        p.tagsets.setdefault(frozenset(tags), set()).add(c)

    def with_supers(cs: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for c in cs:
            if c in NOISE_CLASSES or c in _LITERAL_CLASSES or c.startswith(_DATATYPE_NS):
                continue
            out.add(c)
            out |= p.type.get(c, set())
        return out

    def tags_of(cs: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for c in cs:
            out |= p.tag.get(c, set())
        return out

    # ---- properties: states (property, direction) reachable through sub-property / inverse / symmetry
    psup: dict[str, set[str]] = defaultdict(set)
    for a, b in _pairs(g, RDFS + "subPropertyOf"):
        psup[a].add(b)
    for a, b in _pairs(g, OWL + "equivalentProperty"):
        psup[a].add(b)
        psup[b].add(a)
    inverse: dict[str, set[str]] = defaultdict(set)
    for a, b in _pairs(g, OWL + "inverseOf"):
        inverse[a].add(b)
        inverse[b].add(a)
    for s in g.subjects(URIRef(RDF + "type"), URIRef(OWL + "SymmetricProperty")):
        if isinstance(s, URIRef):
            inverse[str(s)].add(str(s))
    domain: dict[str, set[str]] = defaultdict(set)
    for a, b in _pairs(g, RDFS + "domain"):
        domain[a].add(b)
    range_: dict[str, set[str]] = defaultdict(set)
    for a, b in _pairs(g, RDFS + "range"):
        range_[a].add(b)
    props = set(psup) | {y for ys in psup.values() for y in ys} | set(inverse) | set(domain) | set(range_)
    for prop in props:
        seen = {(prop, True)}
        todo = [(prop, True)]
        while todo:
            q, forward = todo.pop()
            nxt = [(r, forward) for r in psup.get(q, ())] + [(r, not forward) for r in inverse.get(q, ())]
            for st in nxt:
                if st not in seen:
                    seen.add(st)
                    todo.append(st)
        fwd = {q for q, d in seen if d and q != prop}
        inv = {q for q, d in seen if not d}
        subj_classes = with_supers(c for q, d in seen for c in (domain.get(q, ()) if d else range_.get(q, ())))
        obj_classes = with_supers(c for q, d in seen for c in (range_.get(q, ()) if d else domain.get(q, ())))
        for name, val in (("fwd", fwd), ("inv", inv), ("dom", subj_classes), ("rng", obj_classes), ("domtag", tags_of(subj_classes)), ("rngtag", tags_of(obj_classes))):
            if val:
                p.table(name)[prop] = val
    return p


_LOCK = threading.Lock()
_CACHE: dict[tuple[str, ...], Profile] = {}


def compile_profile(modules: Iterable[str] | None = None) -> Profile:
    """The profile of the bundle (or of ``modules`` and what they need), cached per bundle hash.

    rdflib parses the ontology here (about 68k triples, a few seconds, once per version);
    instance data never goes through rdflib.
    """
    names = tuple(m.name for m in module_closure(modules))
    digest = hashlib.sha256(f"{PROFILE_VERSION}:{bundle_hash(names)}:{','.join(names)}".encode()).hexdigest()[:20]
    with _LOCK:
        hit = _CACHE.get(names)
        if hit is None or hit.digest != digest:
            g = rdflib.Graph()
            g.parse(data=load_ontology_closure(names), format="nt")
            hit = _compile(g, list(names), digest)
            _CACHE[names] = hit
    return hit


__all__ = ["HAS_TAG", "KGI", "NOISE_CLASSES", "Profile", "TABLES", "compile_profile"]
