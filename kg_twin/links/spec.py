"""Link specifications: a small YAML format, read and checked here (documented in ``docs/links.md``).

A specification says which entities to compare (``source`` and ``target``: graphs of the project,
another project, or an allow-listed SPARQL endpoint; classes; where labels, identifiers and geometries
are), how to compare them (``measures``, combined into one score in [0, 1]), and what to write
(``relation``, the ``accept`` and ``review`` thresholds).

>>> spec = parse_spec('''
... name: rooms
... source: {class: brick:Space, label: rdfs:label}
... target: {class: bot:Space, label: rdfs:label}
... measures: [{type: room}]
... relation: brick:hasLocation
... accept: 0.9
... review: 0.5
... ''')
>>> spec.relation, spec.measures[0].type, spec.source.classes
('https://brickschema.org/schema/Brick#hasLocation', 'room', ('https://brickschema.org/schema/Brick#Space',))
>>> parse_spec("name: x\\nsource: {}\\ntarget: {}\\nmeasures: [{type: label}]\\nrelation: owl:sameAs")
Traceback (most recent call last):
...
kg_twin.errors.InputError: [LINK_SPEC_IDENTITY] spec 'x': owl:sameAs needs an identity measure (id or iou); label, room, distance, contains and class do not justify identity
  hint: use relation: skos:closeMatch, or add a measure of type id or iou
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from kg_twin.errors import InputError
from kg_twin.limits import DEFAULT, Limits, load_yaml
from kg_twin.terms import BOT, BRICK, DCTERMS, GEO, IFC, OWL, RDFS, REF

SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "https://schema.org/"

PREFIXES: dict[str, str] = {
    "rdfs": RDFS, "owl": OWL, "skos": SKOS, "dcterms": DCTERMS, "geo": GEO, "bot": BOT, "brick": BRICK,
    "ref": REF, "ifc": IFC, "schema": SCHEMA, "kgt": "https://w3id.org/kg-twin/ontology#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "prov": "http://www.w3.org/ns/prov#",
}
MEASURES = ("id", "label", "room", "iou", "contains", "distance", "class")
SPATIAL = ("iou", "contains", "distance")
IDENTITY_MEASURES = ("id", "iou")
AGGREGATES = ("weighted", "min", "max")
MATCHES = ("one_to_one", "best_per_source", "best_per_target", "all")
ID_NORMALISE = ("exact", "casefold", "globalid")
_KEYS = {"name", "description", "prefixes", "source", "target", "measures", "aggregate", "relation", "identity",
         "fallback", "accept", "review", "match", "crs"}
_SIDE_KEYS = {"graphs", "project", "endpoint", "class", "label", "id", "geometry", "limit"}
_MEASURE_KEYS = {"type", "weight", "min", "normalise", "max", "of", "compatible", "block"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_PNAME_RE = re.compile(r"^\^?([A-Za-z][\w.-]*)?:([\w.-]*)$")
_IRI_RE = re.compile(r"^\^?<([^<>\"{}|^`\\\s]+)>$")
HINT = "see docs/links.md for the link-specification format, or `kg-twin link propose` for a starting point"


@dataclass(frozen=True)
class Side:
    """One side of a specification: where the entities come from and where their values are."""

    graphs: tuple[str, ...] = ()
    project: str | None = None
    endpoint: str | None = None
    classes: tuple[str, ...] = ()
    label: str | None = None  # SPARQL property path (built from checked IRIs only)
    id: str | None = None
    geometry: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Measure:
    type: str
    weight: float = 1.0
    min: float | None = None  # pairs scoring below are dropped whatever the other measures say
    normalise: str = "exact"  # id: exact | casefold | globalid ; label: always normalised text
    max: float = 50.0  # distance: metres at which the score reaches 0
    of: str = "centroid"  # distance: centroid | geometry
    compatible: tuple[tuple[str, str], ...] = ()  # class: (source class, target class) pairs
    block: bool = True  # the measure proposes candidates (blocking)


@dataclass(frozen=True)
class LinkSpec:
    name: str
    source: Side
    target: Side
    measures: tuple[Measure, ...]
    relation: str
    description: str = ""
    aggregate: str = "weighted"
    identity: float | None = None  # owl:sameAs: score needed for identity (default: accept)
    fallback: str = SKOS + "closeMatch"
    accept: float = 0.9
    review: float = 0.6
    match: str = "one_to_one"
    crs: str | None = None  # metric CRS for spatial measures (default: the UTM zone of the data)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def spatial(self) -> bool:
        return any(m.type in SPATIAL for m in self.measures)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.raw, sort_keys=False, allow_unicode=True)


def _fail(name: str, code: str, msg: str, hint: str = HINT) -> InputError:
    return InputError(code, f"spec {name!r}: {msg}", hint=hint)


def expand(term: str, prefixes: dict[str, str], *, name: str, what: str) -> str:
    """A prefixed name or ``<IRI>`` -> IRI (checked: nothing but an IRI can come out)."""
    m = _IRI_RE.match(term.strip())
    if m and not term.strip().startswith("^"):
        return m.group(1)
    m = _PNAME_RE.match(term.strip())
    if m and not term.strip().startswith("^"):
        prefix = m.group(1) or ""
        if prefix not in prefixes:
            raise _fail(name, "LINK_SPEC_PREFIX", f"{what}: unknown prefix {prefix!r} in {term!r}", hint=f"declare it under prefixes:, or use one of {', '.join(sorted(prefixes))}")
        return prefixes[prefix] + m.group(2)
    raise _fail(name, "LINK_SPEC_TERM", f"{what}: {term!r} is not a prefixed name or <IRI>")


def path(text: str, prefixes: dict[str, str], *, name: str, what: str) -> str:
    """A property path ``a/b``, ``a|b``, ``^a`` of prefixed names or IRIs -> SPARQL path text made only
    of checked ``<IRI>`` tokens (so a specification cannot inject SPARQL).

    >>> path("ref:hasExternalReference/ref:ifcGlobalID|dcterms:identifier", PREFIXES, name="x", what="id")
    '<https://brickschema.org/schema/Brick/ref#hasExternalReference>/<https://brickschema.org/schema/Brick/ref#ifcGlobalID>|<http://purl.org/dc/terms/identifier>'
    """
    alts = []
    for alt in text.split("|"):
        steps = []
        for step in alt.split("/"):
            step = step.strip()
            inverse = step.startswith("^")
            iri = expand(step[1:] if inverse else step, prefixes, name=name, what=what)
            steps.append(("^" if inverse else "") + f"<{iri}>")
        alts.append("/".join(steps))
    return "|".join(alts)


def _num(raw: dict[str, Any], key: str, default: float | None, name: str, *, lo: float = 0.0, hi: float = 1.0) -> float | None:
    v = raw.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= float(v) <= hi:
        raise _fail(name, "LINK_SPEC_VALUE", f"{key} must be a number in [{lo:g}, {hi:g}], got {v!r}")
    return float(v)


def _side(raw: Any, prefixes: dict[str, str], name: str, which: str) -> Side:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _fail(name, "LINK_SPEC_SIDE", f"{which} must be a mapping")
    extra = set(raw) - _SIDE_KEYS
    if extra:
        raise _fail(name, "LINK_SPEC_KEY", f"{which}: unknown key(s) {', '.join(sorted(extra))}", hint=f"{which} keys: {', '.join(sorted(_SIDE_KEYS))}")
    if raw.get("project") and raw.get("endpoint"):
        raise _fail(name, "LINK_SPEC_SIDE", f"{which}: give project or endpoint, not both")
    classes = raw.get("class") or []
    classes = [classes] if isinstance(classes, str) else list(classes)
    graphs = raw.get("graphs") or []
    graphs = [graphs] if isinstance(graphs, str) else list(graphs)
    endpoint = raw.get("endpoint")
    if endpoint is not None and not re.match(r"^https?://[^\s<>\"]+$", str(endpoint)):
        raise _fail(name, "LINK_SPEC_ENDPOINT", f"{which}: endpoint {endpoint!r} is not an http(s) URL")
    limit = raw.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise _fail(name, "LINK_SPEC_VALUE", f"{which}: limit must be a positive integer")
    return Side(
        graphs=tuple(str(g) for g in graphs),
        project=str(raw["project"]) if raw.get("project") else None,
        endpoint=str(endpoint) if endpoint else None,
        classes=tuple(expand(str(c), prefixes, name=name, what=f"{which}.class") for c in classes),
        label=path(str(raw["label"]), prefixes, name=name, what=f"{which}.label") if raw.get("label") else None,
        id=path(str(raw["id"]), prefixes, name=name, what=f"{which}.id") if raw.get("id") else None,
        geometry=path(str(raw["geometry"]), prefixes, name=name, what=f"{which}.geometry") if raw.get("geometry") else None,
        limit=limit,
    )


def _measure(raw: Any, prefixes: dict[str, str], name: str, i: int) -> Measure:
    if isinstance(raw, str):
        raw = {"type": raw}
    if not isinstance(raw, dict) or raw.get("type") not in MEASURES:
        got = raw.get("type") if isinstance(raw, dict) else raw
        raise _fail(name, "LINK_SPEC_MEASURE", f"measures[{i}]: unknown measure type {got!r}", hint=f"measure types: {', '.join(MEASURES)}")
    extra = set(raw) - _MEASURE_KEYS
    if extra:
        raise _fail(name, "LINK_SPEC_KEY", f"measures[{i}]: unknown key(s) {', '.join(sorted(extra))}", hint=f"measure keys: {', '.join(sorted(_MEASURE_KEYS))}")
    t = raw["type"]
    norm = str(raw.get("normalise", "exact"))
    if t == "id" and norm not in ID_NORMALISE:
        raise _fail(name, "LINK_SPEC_VALUE", f"measures[{i}]: normalise must be one of {', '.join(ID_NORMALISE)}")
    pairs: list[tuple[str, str]] = []
    for pair in raw.get("compatible") or []:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise _fail(name, "LINK_SPEC_VALUE", f"measures[{i}]: compatible holds [source class, target class] pairs")
        pairs.append((expand(str(pair[0]), prefixes, name=name, what="compatible"), expand(str(pair[1]), prefixes, name=name, what="compatible")))
    if t == "class" and not pairs:
        raise _fail(name, "LINK_SPEC_VALUE", f"measures[{i}]: a class measure needs compatible: [[source class, target class], ...]")
    weight = _num(raw, "weight", 1.0, name, hi=1e6)
    return Measure(
        type=t, weight=weight if weight is not None else 1.0, min=_num(raw, "min", None, name), normalise=norm,
        max=_num(raw, "max", 50.0, name, lo=1e-9, hi=1e7) or 50.0, of=str(raw.get("of", "centroid")),
        compatible=tuple(pairs), block=bool(raw.get("block", t not in ("class",))),
    )


def parse_spec(text: str | bytes, *, where: str = "specification", limits: Limits = DEFAULT) -> LinkSpec:
    """Read and check a YAML link specification (InputError with a stable code on any problem;
    nesting and node count bounded as for every YAML a client sends, :mod:`kg_twin.limits`)."""
    try:
        raw = load_yaml(text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text, limits, what=where)
    except yaml.YAMLError as e:
        raise InputError("LINK_SPEC_YAML", f"{where} is not valid YAML: {e}", hint=HINT) from None
    return spec_from_dict(raw, where=where)


def spec_from_dict(raw: Any, *, where: str = "specification") -> LinkSpec:
    """Check a specification already parsed (YAML or JSON) and build it."""
    try:
        return _from_dict(raw, where)
    except (TypeError, ValueError, AttributeError) as e:  # a value of the wrong shape somewhere (a list for a name...)
        raise InputError("LINK_SPEC_VALUE", f"{where}: a value has the wrong type ({e})", hint=HINT) from None


def _from_dict(raw: Any, where: str) -> LinkSpec:
    if not isinstance(raw, dict):
        raise InputError("LINK_SPEC_YAML", f"{where} must be a YAML mapping", hint=HINT)
    name = str(raw.get("name") or "")
    if not _NAME_RE.match(name):
        raise InputError("LINK_SPEC_NAME", f"{where}: name {name!r} must be 1-64 letters, digits, '_', '-' or '.'", hint=HINT)
    extra = set(raw) - _KEYS
    if extra:
        raise _fail(name, "LINK_SPEC_KEY", f"unknown key(s) {', '.join(sorted(extra))}", hint=f"top-level keys: {', '.join(sorted(_KEYS))}")
    prefixes = dict(PREFIXES)
    for p, ns in (raw.get("prefixes") or {}).items():
        prefixes[str(p)] = expand(f"<{ns}>", {}, name=name, what=f"prefixes.{p}")
    measures_raw = raw.get("measures") or []
    if not isinstance(measures_raw, list) or not measures_raw:
        raise _fail(name, "LINK_SPEC_MEASURE", "measures must be a non-empty list")
    measures = tuple(_measure(m, prefixes, name, i) for i, m in enumerate(measures_raw))
    relation = expand(str(raw.get("relation") or "skos:closeMatch"), prefixes, name=name, what="relation")
    fallback = expand(str(raw.get("fallback") or "skos:closeMatch"), prefixes, name=name, what="fallback")
    if relation == OWL + "sameAs" and not any(m.type in IDENTITY_MEASURES for m in measures):
        raise _fail(name, "LINK_SPEC_IDENTITY", "owl:sameAs needs an identity measure (id or iou); label, room, distance, contains and class do not justify identity",
                    hint="use relation: skos:closeMatch, or add a measure of type id or iou")
    accept = _num(raw, "accept", 0.9, name) or 0.0
    review = _num(raw, "review", 0.6, name) or 0.0
    if review > accept:
        raise _fail(name, "LINK_SPEC_VALUE", f"review ({review:g}) must not exceed accept ({accept:g})")
    aggregate = str(raw.get("aggregate", "weighted"))
    if aggregate not in AGGREGATES:
        raise _fail(name, "LINK_SPEC_VALUE", f"aggregate must be one of {', '.join(AGGREGATES)}")
    match = str(raw.get("match", "one_to_one"))
    if match not in MATCHES:
        raise _fail(name, "LINK_SPEC_VALUE", f"match must be one of {', '.join(MATCHES)}")
    source = _side(raw.get("source"), prefixes, name, "source")
    target = _side(raw.get("target"), prefixes, name, "target")
    if not any(m.block for m in measures):
        raise _fail(name, "LINK_SPEC_BLOCKING", "no measure proposes candidates (every measure has block: false)", hint="let an id, label, room or spatial measure block")
    return LinkSpec(
        name=name, source=source, target=target, measures=measures, relation=relation, description=str(raw.get("description") or ""),
        aggregate=aggregate, identity=_num(raw, "identity", None, name), fallback=fallback, accept=accept, review=review, match=match,
        crs=str(raw["crs"]) if raw.get("crs") else None, raw=raw,
    )


DEFAULT_PATHS = {
    "label": f"<{RDFS}label>",
    "id": f"<{DCTERMS}identifier>|<{REF}hasExternalReference>/<{REF}ifcGlobalID>",
    "geometry": f"<{GEO}hasDefaultGeometry>/<{GEO}asWKT>|<{GEO}hasGeometry>/<{GEO}asWKT>",
}
