"""The Brick class index the classifier reads: tags, labels, definitions, aliases, deprecations."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kg_twin.ingest.labels.tables import DEFAULT_BRICK_VERSION, EQUIPMENT_ABBREVIATIONS, POINT_FUNCTIONS, SH, SKOS_DEFINITION, TAG_NS
from kg_twin.ontologies import BRICK_VERSION, brick_file
from kg_twin.terms import BRICK, OWL, RDF, RDFS


@dataclass
class BrickClass:
    iri: str
    name: str
    label: str
    tags: frozenset[str]
    words: frozenset[str]
    definition: str
    parents: tuple[str, ...]
    defwords: frozenset[str] = frozenset()  # words of skos:definition (3+ letters, no stop words)
    deprecated: bool = False
    alias_of: str | None = None
    replaced_by: str | None = None
    equivalents: tuple[str, ...] = ()


@dataclass
class BrickIndex:
    version: str
    classes: dict[str, BrickClass]
    ancestors: dict[str, frozenset[str]]
    points: list[BrickClass] = field(default_factory=list)
    equipment: set[str] = field(default_factory=set)
    locations: set[str] = field(default_factory=set)
    idf: dict[str, float] = field(default_factory=dict)
    vocabulary: set[str] = field(default_factory=set)
    implied: dict[str, frozenset[str]] = field(default_factory=dict)  # tags every point class with this tag has
    by_tag: dict[str, tuple[str, ...]] = field(default_factory=dict)  # tag / label word -> point classes

    def is_a(self, cls: str, ancestor: str) -> bool:
        return cls == ancestor or ancestor in self.ancestors.get(cls, frozenset())

    def canonical(self, cls: str) -> str:
        """Follow ``brick:aliasOf`` / ``brick:isReplacedBy`` to the class to emit."""
        seen = set()
        while cls in self.classes and cls not in seen:
            seen.add(cls)
            c = self.classes[cls]
            nxt = c.alias_of or c.replaced_by
            if not nxt or nxt not in self.classes:
                break
            cls = nxt
        return cls

    def same(self, a: str, b: str) -> bool:
        """True when two class IRIs denote the same Brick class (alias / equivalence / replacement)."""
        if a == b:
            return True
        ca, cb = self.canonical(a), self.canonical(b)
        if ca == cb:
            return True
        eq_a = set(self.classes[ca].equivalents) if ca in self.classes else set()
        return cb in eq_a


_STOP = {"the", "and", "for", "that", "with", "which", "from", "this", "are", "its", "into", "used", "such", "has", "have", "can", "any", "all", "other", "one", "not", "than", "when", "where", "being", "been"}


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9.]+", text.lower()) if w]


def brick_ttl_path(version: str = DEFAULT_BRICK_VERSION) -> Path:
    """Brick.ttl of ``version``: the ontology bundle's copy, or another version shipped with brickschema."""
    if version == BRICK_VERSION:
        return brick_file()
    import brickschema

    return Path(brickschema.__file__).parent / "ontologies" / version / "Brick.ttl"


@lru_cache(maxsize=4)
def brick_index(version: str = DEFAULT_BRICK_VERSION) -> BrickIndex:
    """Read the Brick ontology (the bundle's, by default) into a class index (cached per process)."""
    import rdflib

    g = rdflib.Graph()
    g.parse(brick_ttl_path(version), format="turtle")
    U = rdflib.URIRef
    rdf_type, owl_class, sub = U(RDF + "type"), U(OWL + "Class"), U(RDFS + "subClassOf")
    label_p, def_p = U(RDFS + "label"), U(SKOS_DEFINITION)
    assoc, has_tag, rule, pred, obj = (
        U(BRICK + "hasAssociatedTag"),
        U(BRICK + "hasTag"),
        U(SH + "rule"),
        U(SH + "predicate"),
        U(SH + "object"),
    )
    alias_p, repl_p, eq_p = U(BRICK + "aliasOf"), U(BRICK + "isReplacedBy"), U(OWL + "equivalentClass")
    depr_p, depr2_p = U(OWL + "deprecated"), U(BRICK + "deprecation")
    names = {str(s) for s in g.subjects(rdf_type, owl_class) if str(s).startswith(BRICK)}
    parents: dict[str, list[str]] = defaultdict(list)
    for s, o in g.subject_objects(sub):
        if str(s) in names and isinstance(o, U):
            parents[str(s)].append(str(o))
    classes: dict[str, BrickClass] = {}
    for iri in names:
        s = U(iri)
        tags = {str(t)[len(TAG_NS) :].lower() for t in g.objects(s, assoc) if str(t).startswith(TAG_NS)}
        for r in g.objects(s, rule):
            if g.value(r, pred) == has_tag:
                t = g.value(r, obj)
                if t is not None and str(t).startswith(TAG_NS):
                    tags.add(str(t)[len(TAG_NS) :].lower())
        label = str(g.value(s, label_p) or iri[len(BRICK) :].replace("_", " "))
        definition = str(g.value(s, def_p) or "")
        depr = bool(g.value(s, depr_p)) and str(g.value(s, depr_p)).lower() == "true" or g.value(s, depr2_p) is not None
        alias = g.value(s, alias_p)
        repl = g.value(s, repl_p)
        classes[iri] = BrickClass(
            iri=iri,
            name=iri[len(BRICK) :],
            label=label,
            tags=frozenset((tags or set(_words(label))) - {"point"}),
            words=frozenset(_words(label)),
            definition=definition,
            defwords=frozenset(w for w in _words(definition) if len(w) >= 3 and w not in _STOP),
            parents=tuple(sorted(parents.get(iri, []))),
            deprecated=depr or repl is not None,
            alias_of=str(alias) if alias is not None and str(alias) in names else None,
            replaced_by=str(repl) if repl is not None and str(repl) in names else None,
            equivalents=tuple(sorted(str(o) for o in g.objects(s, eq_p) if str(o) in names)),
        )
    ancestors: dict[str, frozenset[str]] = {}

    def anc(c: str, stack: frozenset[str] = frozenset()) -> frozenset[str]:
        if c in ancestors:
            return ancestors[c]
        out: set[str] = set()
        for p in parents.get(c, []):
            if p in stack:
                continue
            out.add(p)
            out |= anc(p, stack | {c})
        ancestors[c] = frozenset(out)
        return ancestors[c]

    for c in classes:
        anc(c)
    idx = BrickIndex(version=version, classes=classes, ancestors=ancestors)
    point, equip, loc = BRICK + "Point", BRICK + "Equipment", BRICK + "Location"
    idx.points = sorted((c for c in classes.values() if idx.is_a(c.iri, point) and not c.alias_of), key=lambda c: c.iri)
    idx.equipment = {c for c in classes if idx.is_a(c, equip)}
    idx.locations = {c for c in classes if idx.is_a(c, loc)}
    df: Counter[str] = Counter()
    for c in idx.points:
        for t in c.tags | c.words:
            df[t] += 1
    n = len(idx.points)
    idx.idf = {t: math.log(1 + n / d) for t, d in df.items()}
    idx.vocabulary = set(df)
    common: dict[str, set[str]] = {}
    for c in idx.points:
        for t in c.tags:
            common[t] = set(c.tags) if t not in common else common[t] & c.tags
    idx.implied = {t: frozenset(v - {t} - set(POINT_FUNCTIONS)) for t, v in common.items()}
    by_tag: dict[str, list[str]] = defaultdict(list)
    for c in idx.points:
        for t in c.tags | c.words:
            by_tag[t].append(c.iri)
    idx.by_tag = {t: tuple(v) for t, v in by_tag.items()}
    return idx


def brick_class_of(value: str, idx: BrickIndex) -> str | None:
    """Brick class named by a cell: ``brick:Chiller``, a full IRI, a class name (``Air_Handling_Unit``),
    its label in any case (``air handling unit``, ``Chiller``), or an equipment abbreviation (``AHU``).
    Aliases resolve to the class Brick recommends."""
    v = value.strip()
    if v.startswith("brick:"):
        v = v[6:]
    elif v.startswith(BRICK):
        v = v[len(BRICK) :]
    name = re.sub(r"[\s-]+", "_", v)
    if BRICK + name in idx.classes:
        return idx.canonical(BRICK + name)
    by_label = _labels_index(idx)
    hit = by_label.get(re.sub(r"[\s_-]+", " ", v).strip().lower())
    if hit:
        return hit
    abbr = EQUIPMENT_ABBREVIATIONS.get(v.lower())
    if abbr and BRICK + abbr in idx.classes:
        return BRICK + abbr
    return None


_LABELS: dict[int, dict[str, str]] = {}


def _labels_index(idx: BrickIndex) -> dict[str, str]:
    key = id(idx)
    if key not in _LABELS:
        out: dict[str, str] = {}
        for c in idx.classes.values():
            out.setdefault(c.label.lower(), idx.canonical(c.iri))
            out.setdefault(c.name.replace("_", " ").lower(), idx.canonical(c.iri))
        _LABELS[key] = out
    return _LABELS[key]
