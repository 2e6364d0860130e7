"""SHACL Core engine that evaluates shapes as set-at-a-time SPARQL queries on the store.

Engines
-------
``kgtwin`` (default)
    This module. Focus nodes and value nodes are computed by SPARQL queries on the
    data graphs in pyoxigraph (one query per shape and path, never one per node);
    constraint components are then checked in Python on the returned terms, or,
    for the components SHACL defines through SPARQL operators (``sh:minInclusive``,
    ``sh:lessThan``, ...), by a SPARQL ``FILTER`` with the same operator. Nested
    shapes (``sh:node``, ``sh:not``, ``sh:and``, ``sh:or``, ``sh:xone``,
    ``sh:qualifiedValueShape``, nested ``sh:property``) are evaluated on the whole
    set of value nodes at once. Supports all of SHACL Core; SHACL-SPARQL
    (``sh:sparql``, SPARQL-based constraint components) is refused with an error
    naming the shape, never skipped.
``pyshacl``
    The reference Python implementation, run on a copy of the data graphs in rdflib.
    Slower; chosen only when asked (``engine="pyshacl"``), or per shape with
    ``engine="auto"`` for shapes that use SHACL-SPARQL. The report names the engine
    used for every shape.

Data graph = union of the given graphs; ``rdfs:subClassOf`` (for class targets and
``sh:class``) is read from the data graphs plus the closure graphs, whose other
triples are never validated.

>>> from kg_twin.store.view import ShaclView
>>> import rdflib
>>> shapes = rdflib.Graph().parse(data='''
... @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://x/> .
... ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .''', format="turtle")
>>> view = ShaclView.from_ntriples(b'<http://x/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://x/C> .\\n')
>>> [(str(r.focus), r.component.split("#")[1]) for r in Engine(view, shapes).run()]
[('<http://x/a>', 'MinCountConstraintComponent')]
"""

from __future__ import annotations

import itertools
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import rdflib
from rdflib import RDF, RDFS, OWL, URIRef
from rdflib.collection import Collection

from kg_twin.errors import InputError
from kg_twin.store.view import (
    RDF_LANGSTRING,
    ShaclQueryError,
    XSD_STRING,
    ShaclView,
    from_rdflib,
    is_bnode,
    is_iri,
    is_literal,
    sparql_term,
)

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
ENGINE_NAME = "kgtwin"

_TARGET_PREDS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_SPARQL_PREDS = (SH.sparql, SH.select, SH.ask)


class UnsupportedShape(InputError):
    """The shape uses a feature outside SHACL Core (SHACL-SPARQL, SHACL-AF)."""


@dataclass
class Result:
    focus: Any  # pyoxigraph term
    path: Any  # rdflib node from the shapes graph (or URIRef for sh:closed), or None
    value: Any  # pyoxigraph term or None
    shape: Any  # rdflib node (source shape)
    component: URIRef
    severity: URIRef
    messages: list = field(default_factory=list)  # rdflib Literals
    engine: str = ENGINE_NAME
    source_constraint: Any = None  # rdflib node of the SPARQL constraint (sh:sourceConstraint)


# --- shapes --------------------------------------------------------------------


@dataclass
class Shape:
    node: Any
    path: Any = None  # rdflib path node, None for node shapes
    path_sparql: str | None = None
    severity: URIRef = SH.Violation
    messages: list = field(default_factory=list)
    deactivated: bool = False
    targets: list = field(default_factory=list)  # (predicate, rdflib term)
    params: dict = field(default_factory=dict)  # predicate -> list of objects
    sparql: list = field(default_factory=list)  # SHACL-SPARQL constraints: (node, select text, prefixes, messages)

    @property
    def is_property(self) -> bool:
        return self.path is not None

    def all(self, pred) -> list:
        return self.params.get(pred, [])

    def one(self, pred):
        v = self.params.get(pred)
        return v[0] if v else None


def iri(u) -> str:
    """``<iri>`` for a shapes-graph IRI, checked (shapes may come from a request body)."""
    try:
        return str(from_rdflib(URIRef(str(u))))
    except ValueError as e:
        raise InputError("SHACL_BAD_IRI", f"invalid IRI in the shapes graph: {str(u)!r}", hint="fix the shapes") from e


def path_to_sparql(g: rdflib.Graph, p) -> str:
    """SPARQL 1.1 property path for a SHACL path node."""
    if isinstance(p, URIRef):
        return iri(p)
    if isinstance(p, rdflib.Literal) or p is None:
        raise InputError("SHACL_BAD_PATH", f"sh:path must be an IRI or a path expression, got {p!r}")
    if (p, RDF.first, None) in g:
        items = list(Collection(g, p))
        if len(items) < 2:
            raise InputError("SHACL_BAD_PATH", "a sequence path needs at least two members")
        return "(" + "/".join(path_to_sparql(g, x) for x in items) + ")"
    alt = g.value(p, SH.alternativePath)
    if alt is not None:
        items = list(Collection(g, alt))
        if len(items) < 2:
            raise InputError("SHACL_BAD_PATH", "sh:alternativePath needs at least two members")
        return "(" + "|".join(path_to_sparql(g, x) for x in items) + ")"
    for pred, op in ((SH.inversePath, "^"), (SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        v = g.value(p, pred)
        if v is not None:
            inner = path_to_sparql(g, v)
            return f"^{inner}" if op == "^" else f"({inner}){op}"
    raise InputError("SHACL_BAD_PATH", f"unrecognised SHACL path {p}")


_PARAM_PREDS = [
    SH["class"], SH.datatype, SH.nodeKind, SH.minCount, SH.maxCount, SH.minExclusive, SH.minInclusive,
    SH.maxExclusive, SH.maxInclusive, SH.minLength, SH.maxLength, SH.pattern, SH.flags, SH.languageIn,
    SH.uniqueLang, SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals, SH["in"], SH.hasValue,
    SH.closed, SH.ignoredProperties, SH.node, SH["not"], SH["and"], SH["or"], SH.xone, SH.property,
    SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint,
]


class ShapesGraph:
    """Shapes parsed from an rdflib graph (shapes graphs are small)."""

    def __init__(self, g: rdflib.Graph) -> None:
        self.g = g
        self._shapes: dict[Any, Shape] = {}
        self._parents: dict[Any, list] | None = None
        self._custom: set | None = None

    def shape(self, node) -> Shape:
        s = self._shapes.get(node)
        if s is not None:
            return s
        g = self.g
        s = Shape(node=node)
        self._shapes[node] = s
        props: dict = defaultdict(list)
        for pred, o in g.predicate_objects(node):
            props[pred].append(o)
        path = props.get(SH.path)
        if path:
            s.path = path[0]
            s.path_sparql = path_to_sparql(g, path[0])
        sev = props.get(SH.severity)
        if sev:
            s.severity = sev[0]
        s.messages = props.get(SH.message, [])
        deact = (props.get(SH.deactivated) or [None])[0]
        s.deactivated = isinstance(deact, rdflib.Literal) and deact.datatype == rdflib.XSD.boolean and str(deact) in ("true", "1")
        for pred in _TARGET_PREDS:
            for o in props.get(pred, ()):
                s.targets.append((pred, o))
        types = set(props.get(RDF.type, ()))
        if types & {RDFS.Class, OWL.Class} and types & {SH.NodeShape, SH.PropertyShape}:
            s.targets.append((SH.targetClass, node))
        for pred in _PARAM_PREDS:
            if pred in props:
                s.params[pred] = props[pred]
        for c in props.get(SH.sparql, ()):
            deact = g.value(c, SH.deactivated)
            if _is_true(deact):
                continue
            sel = g.value(c, SH.select)
            if sel is None:
                raise UnsupportedShape("SHACL_SPARQL_UNSUPPORTED", f"SPARQL constraint of shape {node.n3()} has no sh:select", hint="use --engine pyshacl")
            text = str(sel)
            if "$shapesGraph" in text or ("$currentShape" in text and not isinstance(node, rdflib.URIRef)):
                raise UnsupportedShape("SHACL_SPARQL_UNSUPPORTED", f"SPARQL constraint of shape {node.n3()} uses $shapesGraph/$currentShape", hint="use --engine auto or pyshacl")
            s.sparql.append((c, text, self.prefixes(c), list(g.objects(c, SH.message))))
        unknown = self.custom_params() & set(props)
        if unknown:
            raise UnsupportedShape(
                "SHACL_CUSTOM_COMPONENT_UNSUPPORTED",
                f"shape {node.n3()} uses custom (SPARQL-based) constraint components ({', '.join(sorted(p.n3() for p in unknown))}), which the kgtwin engine does not evaluate",
                hint="run it with --engine auto (routes such shapes to pyshacl) or --engine pyshacl",
            )
        return s

    def custom_params(self) -> set:
        """Parameters of SPARQL-based constraint components declared in the shapes graph."""
        if self._custom is None:
            g = self.g
            self._custom = set()
            for cc in g.subjects(RDF.type, SH.ConstraintComponent):
                for prm in g.objects(cc, SH.parameter):
                    path = g.value(prm, SH.path)
                    if isinstance(path, URIRef) and not str(path).startswith(str(SH)):
                        self._custom.add(path)
        return self._custom

    def prefixes(self, node) -> dict[str, str]:
        """sh:prefixes declarations (sh:declare [sh:prefix; sh:namespace]) for a SPARQL constraint."""
        out: dict[str, str] = {}
        g = self.g
        for holder in g.objects(node, SH.prefixes):
            for decl in g.objects(holder, SH.declare):
                pfx, ns = g.value(decl, SH.prefix), g.value(decl, SH.namespace)
                if pfx is not None and ns is not None:
                    out[str(pfx)] = str(ns)
        return out

    def list_of(self, head) -> list:
        return list(Collection(self.g, head))

    def shape_nodes(self) -> list:
        """Every node that is a shape (declared, targeted, or referenced as one)."""
        g = self.g
        nodes: dict[Any, None] = {}
        for t in (SH.NodeShape, SH.PropertyShape):
            for n in g.subjects(RDF.type, t):
                nodes[n] = None
        for pred in _TARGET_PREDS + (SH.path,):
            for n in g.subjects(pred, None):
                nodes[n] = None
        for pred in (SH.node, SH["not"], SH.property, SH.qualifiedValueShape):
            for n in g.objects(None, pred):
                nodes[n] = None
        for pred in (SH["and"], SH["or"], SH.xone):
            for lst in g.objects(None, pred):
                for n in Collection(g, lst):
                    nodes[n] = None
        return [n for n in nodes if not isinstance(n, rdflib.Literal)]

    def targeted(self, keep: Callable[[Any], bool] | None = None) -> list[Shape]:
        """Parsed shapes with targets (``keep`` filters shape nodes before they are parsed)."""
        out = []
        for n in self.shape_nodes():
            if keep is not None and not keep(n):
                continue
            s = self.shape(n)
            if s.targets and not s.deactivated:
                out.append(s)
        return out

    def uses_sparql(self, node) -> bool:
        """Does the shape need pyshacl (custom SPARQL-based components, or SPARQL constraints we refuse)?"""
        try:
            self.shape(node)
        except UnsupportedShape:
            self._shapes.pop(node, None)
            return True
        return False

    def parents(self, prop_shape) -> list:
        """Shapes that have ``prop_shape`` as an sh:property (for qualified siblings)."""
        if self._parents is None:
            self._parents = defaultdict(list)
            for s, o in self.g.subject_objects(SH.property):
                self._parents[o].append(s)
        return self._parents.get(prop_shape, [])


# --- node sets -----------------------------------------------------------------


class NodeSet:
    """A set of RDF nodes defined by a SPARQL group pattern binding one variable."""

    def __init__(self, engine: "Engine", pattern: Callable[[str], str], label: str) -> None:
        self.engine = engine
        self._pattern = pattern
        self.label = label
        self._nodes: list | None = None
        self._values: dict[str, dict] = {}
        self._valuesets: dict[str, NodeSet] = {}
        self.subjects_of: str | None = None  # set when every node is a subject of this predicate

    def pattern(self, var: str) -> str:
        return self._pattern(var)

    def nodes(self) -> list:
        if self._nodes is None:
            x = self.engine.var()
            self._nodes = [r[0] for r in self.engine.rows(f"SELECT DISTINCT {x} WHERE {{ {self.pattern(x)} }}")]
        return self._nodes

    def values(self, path: str) -> dict:
        """focus node -> list of distinct value nodes reached by ``path`` (every node is a key)."""
        if path not in self._values:
            x, v = self.engine.var(), self.engine.var()
            out: dict = {n: [] for n in self.nodes()}
            for f, val in self.engine.rows(f"SELECT DISTINCT {x} {v} WHERE {{ {self.pattern(x)} {x} {path} {v} . }}"):
                out[f].append(val)
            self._values[path] = out
        return self._values[path]

    def value_set(self, path: str) -> "NodeSet":
        if path not in self._valuesets:
            eng = self.engine

            def pat(var: str, _path=path) -> str:
                f = eng.var()
                return f"{{ SELECT DISTINCT {var} WHERE {{ {self.pattern(f)} {f} {_path} {var} . }} }}"

            vs = NodeSet(eng, pat, f"{self.label}/{path}")
            vals = self._values.get(path)
            if vals is not None:
                vs._nodes = list(dict.fromkeys(itertools.chain.from_iterable(vals.values())))
            self._valuesets[path] = vs
        return self._valuesets[path]


# --- engine --------------------------------------------------------------------


_NODEKINDS = {
    SH.IRI: (True, False, False),
    SH.BlankNode: (False, True, False),
    SH.Literal: (False, False, True),
    SH.BlankNodeOrIRI: (True, True, False),
    SH.BlankNodeOrLiteral: (False, True, True),
    SH.IRIOrLiteral: (True, False, True),
}

_COMPARE = {
    SH.minExclusive: ("{lit} < {v}", SH.MinExclusiveConstraintComponent),
    SH.minInclusive: ("{lit} <= {v}", SH.MinInclusiveConstraintComponent),
    SH.maxExclusive: ("{v} < {lit}", SH.MaxExclusiveConstraintComponent),
    SH.maxInclusive: ("{v} <= {lit}", SH.MaxInclusiveConstraintComponent),
}


_INT_RANGES = {
    "integer": (None, None), "long": (-(2**63), 2**63 - 1), "int": (-(2**31), 2**31 - 1),
    "short": (-32768, 32767), "byte": (-128, 127), "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None), "nonPositiveInteger": (None, 0), "negativeInteger": (None, -1),
    "unsignedLong": (0, 2**64 - 1), "unsignedInt": (0, 2**32 - 1), "unsignedShort": (0, 65535),
    "unsignedByte": (0, 255),
}
_TZ = r"(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)?"
_DATE = r"-?([1-9]\d{3,}|0\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_TIME = r"(([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?|24:00:00(\.0+)?)"
_LEXICAL = {
    "boolean": re.compile(r"true|false|1|0"),
    "decimal": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)"),
    "double": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN"),
    "float": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN"),
    "date": re.compile(_DATE + _TZ),
    "dateTime": re.compile(_DATE + "T" + _TIME + _TZ),
    "dateTimeStamp": re.compile(_DATE + "T" + _TIME + r"(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)"),
    "time": re.compile(_TIME + _TZ),
    "gYear": re.compile(r"-?([1-9]\d{3,}|0\d{3})" + _TZ),
    "gYearMonth": re.compile(r"-?([1-9]\d{3,}|0\d{3})-(0[1-9]|1[0-2])" + _TZ),
    "duration": re.compile(r"-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"),
    "hexBinary": re.compile(r"([0-9a-fA-F]{2})*"),
    "language": re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*"),
}


def xsd_lexical_ok(lex: str, dt: str) -> bool:
    """Is ``lex`` in the lexical space of the XSD datatype ``dt`` (full IRI)?"""
    local = dt[len(XSD_NS):] if dt.startswith(XSD_NS) else None
    if local is None:
        return True
    if local in _INT_RANGES:
        if not re.fullmatch(r"[+-]?\d+", lex):
            return False
        lo, hi = _INT_RANGES[local]
        n = int(lex)
        return (lo is None or n >= lo) and (hi is None or n <= hi)
    rx = _LEXICAL.get(local)
    if rx is not None:
        return rx.fullmatch(lex) is not None
    try:
        return not rdflib.Literal(lex, datatype=URIRef(dt)).ill_typed
    except Exception:  # noqa: BLE001 - rdflib converters raise assorted errors on bad input
        return False


_COMPONENT = {
    SH.nodeKind: SH.NodeKindConstraintComponent, SH.datatype: SH.DatatypeConstraintComponent,
    SH["class"]: SH.ClassConstraintComponent, SH["in"]: SH.InConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent, SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent, SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent, SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH.maxInclusive: SH.MaxInclusiveConstraintComponent, SH.languageIn: SH.LanguageInConstraintComponent,
    SH.node: SH.NodeConstraintComponent, SH["not"]: SH.NotConstraintComponent, SH["and"]: SH.AndConstraintComponent,
    SH["or"]: SH.OrConstraintComponent, SH.xone: SH.XoneConstraintComponent, SH.hasValue: SH.HasValueConstraintComponent,
}


def _lang_matches(lang: str, rng: str) -> bool:
    lang, rng = lang.lower(), rng.lower()
    if rng == "*":
        return bool(lang)
    return lang == rng or lang.startswith(rng + "-")


def _is_true(lit) -> bool:
    return isinstance(lit, rdflib.Literal) and lit.datatype == rdflib.XSD.boolean and str(lit) == "true"


# --- compilation of value-local constraints to SPARQL (the fast path) -------------------

_LOCAL = {
    SH.nodeKind, SH.datatype, SH["class"], SH["in"], SH.pattern, SH.flags, SH.minLength, SH.maxLength,
    SH.minExclusive, SH.minInclusive, SH.maxExclusive, SH.maxInclusive, SH.languageIn, SH.node,
    SH["not"], SH["and"], SH["or"], SH.xone, SH.hasValue, SH.property,
}
_RX_SPARQL = {k: rx.pattern for k, rx in _LEXICAL.items() if k != "duration"}


def _sparql_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


class _NotCompilable(Exception):
    pass


class Compiler:
    """SHACL constraints whose truth depends on one value node -> SPARQL boolean expressions.

    Each component becomes ``COALESCE(<condition>, false)`` so that an evaluation error
    means "does not conform", as in SHACL, and never leaks through ``!`` or ``||``.
    Anything else (counts across values, sh:closed, sh:equals...) raises ``_NotCompilable``
    and the shape takes the general path.
    """

    def __init__(self, engine: "Engine") -> None:
        self.e = engine
        self.sg = engine.shapes
        self._cache: dict = {}

    def component(self, pred, obj, v: str, shape: Shape) -> str:
        e, sg = self.e, self.sg
        if pred == SH.nodeKind:
            if obj not in _NODEKINDS:
                raise _NotCompilable
            a = _NODEKINDS[obj]
            parts = [f for f, on in ((f"isIRI({v})", a[0]), (f"isBlank({v})", a[1]), (f"isLiteral({v})", a[2])) if on]
            c = " || ".join(parts)
        elif pred == SH.datatype:
            dt = str(obj)
            if dt == RDF_LANGSTRING:
                c = f'isLiteral({v}) && lang({v}) != ""'
            elif dt == XSD_STRING:
                c = f'isLiteral({v}) && datatype({v}) = <{XSD_STRING}> && lang({v}) = ""'
            elif not dt.startswith(XSD_NS):
                c = f"isLiteral({v}) && datatype({v}) = {iri(dt)}"
            else:
                local = dt[len(XSD_NS):]
                base = f"isLiteral({v}) && datatype({v}) = {iri(dt)}"
                if local in _INT_RANGES:
                    lo, hi = _INT_RANGES[local]
                    c = f'{base} && REGEX(STR({v}), "^[+-]?[0-9]+$")'
                    if lo is not None:
                        c += f" && xsd:integer(STR({v})) >= {lo}"
                    if hi is not None:
                        c += f" && xsd:integer(STR({v})) <= {hi}"
                    c = c.replace("xsd:integer", f"<{XSD_NS}integer>")
                elif local in _RX_SPARQL:
                    c = f"{base} && REGEX(STR({v}), {_sparql_str('^(?:' + _RX_SPARQL[local] + ')$')})"
                else:
                    raise _NotCompilable
        elif pred == SH["class"]:
            c = f"EXISTS {{ {e._type_pattern(v, obj)} }}" if e.classes_in_data(obj) else "false"
            extra = e.closure_instances(obj)
            if len(extra) > 5000:
                raise _NotCompilable
            if extra:
                c = f"({c}) || {v} IN ({', '.join(sorted(str(x) for x in extra))})"
        elif pred == SH["in"]:
            items = [from_rdflib(x) for x in sg.list_of(obj)]
            if any(is_bnode(x) for x in items):
                raise _NotCompilable
            c = " || ".join(f"sameTerm({v}, {sparql_term(x)})" for x in items) or "false"
        elif pred == SH.hasValue:
            if shape.is_property or isinstance(obj, rdflib.BNode):
                raise _NotCompilable
            c = f"sameTerm({v}, {sparql_term(from_rdflib(obj))})"
        elif pred == SH.pattern:
            flags = str(shape.one(SH.flags) or "")
            rx = f"{_sparql_str(str(obj))}{', ' + _sparql_str(flags) if flags else ''}"
            if not self._store_regex_ok(rx):
                raise _NotCompilable  # the store's regex engine rejects it: check it in Python
            c = f"!isBlank({v}) && REGEX(STR({v}), {rx})"
        elif pred == SH.flags:
            return ""
        elif pred in (SH.minLength, SH.maxLength):
            op = ">=" if pred == SH.minLength else "<="
            c = f"!isBlank({v}) && STRLEN(STR({v})) {op} {int(obj)}"
        elif pred in _COMPARE:
            c = _COMPARE[pred][0].format(lit=sparql_term(from_rdflib(obj)), v=v)
        elif pred == SH.languageIn:
            ranges = [str(x) for x in sg.list_of(obj)]
            c = f"isLiteral({v}) && (" + (" || ".join(f"langMatches(lang({v}), {_sparql_str(r)})" for r in ranges) or "false") + ")"
        elif pred == SH.node:
            c = self.shape_expr(obj, v)
        elif pred == SH["not"]:
            c = f"!({self.shape_expr(obj, v)})"
        elif pred in (SH["and"], SH["or"]):
            joiner = " && " if pred == SH["and"] else " || "
            members = [self.shape_expr(x, v) for x in sg.list_of(obj)]
            c = joiner.join(f"({m})" for m in members) or ("true" if pred == SH["and"] else "false")
        elif pred == SH.xone:
            members = [self.shape_expr(x, v) for x in sg.list_of(obj)]
            c = "(" + " + ".join(f"IF({m}, 1, 0)" for m in members) + ") = 1" if members else "false"
        elif pred == SH.property:
            c = self.shape_expr(obj, v)
        else:
            raise _NotCompilable
        return f"COALESCE({c}, false)"

    def _store_regex_ok(self, rx: str) -> bool:
        """Does the store's regex engine accept this pattern (Rust regex: no look-around, no backreferences)?"""
        ok = self._cache.get(rx)
        if ok is None:
            try:
                row = self.e.view.rows(f'SELECT (REGEX("", {rx}) AS ?ok) WHERE {{}}')[0]
                ok = row[0] is not None
            except ShaclQueryError:
                ok = False
            self._cache[rx] = ok
        return ok

    def shape_expr(self, node, v: str) -> str:
        """Expression true when ``v`` conforms to the shape."""
        sh = self.sg.shape(node)
        if sh.deactivated:
            return "true"
        if not set(sh.params) <= (_LOCAL | {SH.minCount, SH.maxCount}):
            raise _NotCompilable
        if not sh.is_property:
            if SH.minCount in sh.params or SH.maxCount in sh.params:
                raise _NotCompilable
            parts = [self.component(p, o, v, sh) for p, objs in sh.params.items() for o in objs]
            return " && ".join(x for x in parts if x) or "true"
        # property shape: count part + every value satisfies the value-local part
        if SH.hasValue in sh.params or SH.property in sh.params:
            raise _NotCompilable
        x = self.e.var()
        parts = []
        for n in sh.params.get(SH.minCount, []):
            if int(n) > 1:
                raise _NotCompilable
            if int(n) == 1:
                parts.append(f"EXISTS {{ {v} {sh.path_sparql} {x} }}")
        for n in sh.params.get(SH.maxCount, []):
            if int(n) != 0:
                raise _NotCompilable
            parts.append(f"NOT EXISTS {{ {v} {sh.path_sparql} {x} }}")
        local = [self.component(p, o, x, sh) for p, objs in sh.params.items() if p not in (SH.minCount, SH.maxCount) for o in objs]
        local = [c for c in local if c]
        if local:
            parts.append(f"NOT EXISTS {{ {v} {sh.path_sparql} {x} . FILTER(!({' && '.join(local)})) }}")
        return " && ".join(parts) or "true"


class Engine:
    """Evaluate a shapes graph over a :class:`ShaclView` (see the module doc)."""

    def __init__(self, view: ShaclView, shapes: rdflib.Graph | ShapesGraph, *, shape_filter: Callable[[Any], bool] | None = None, pushdown: bool = True, workers: int | None = None) -> None:
        self.view = view
        self.workers = workers if workers is not None else min(4, os.cpu_count() or 1)
        self.shapes = shapes if isinstance(shapes, ShapesGraph) else ShapesGraph(shapes)
        self.shape_filter = shape_filter
        self._n = itertools.count(1)
        self._sub: dict | None = None
        self._desc: dict = {}
        self._failing: dict = {}
        self._dt_ok: dict = {}
        self._data_types: set | None = None
        self._closure_index: dict | None = None
        self.per_shape_s: dict = {}
        self.pushdown = pushdown
        self.compiler = Compiler(self)
        self.paths: dict = {"pushdown": 0, "general": 0}

    # helpers ------------------------------------------------------------------
    def var(self) -> str:
        return f"?_v{next(self._n)}"  # itertools.count: safe across worker threads

    def rows(self, q: str, closure: bool = False) -> list[tuple]:
        return self.view.rows(q, closure=closure)

    def subclasses(self, cls) -> list:
        """``cls`` and all its subclasses (data + closure graphs), as pyoxigraph terms."""
        if self._sub is None:
            sub = defaultdict(set)
            for s, o in self.view.subclass_pairs():
                sub[o].add(s)
            self._sub = sub
        c = from_rdflib(cls)
        if c in self._desc:
            return self._desc[c]
        seen = {c}
        todo = [c]
        while todo:
            for s in self._sub.get(todo.pop(), ()):
                if s not in seen:
                    seen.add(s)
                    todo.append(s)
        out = [x for x in seen if not is_literal(x)]
        self._desc[c] = out
        return out

    def data_types(self) -> set:
        """Classes used as rdf:type objects in the data graphs (others cannot match anything)."""
        if self._data_types is None:
            self._data_types = {r[0] for r in self.rows(f"SELECT DISTINCT ?t WHERE {{ ?s <{RDF.type}> ?t }}")}
        return self._data_types

    def closure_instances(self, cls) -> set:
        """Individuals typed (directly or via subclasses) with ``cls`` by the closure files (e.g. units)."""
        if self._closure_index is None:
            idx = defaultdict(set)
            for ind, t in getattr(self.view, "closure_types", []):
                idx[t].add(ind)
            self._closure_index = idx
        out: set = set()
        for c in self.subclasses(cls):
            out |= self._closure_index.get(c, set())
        return out

    def classes_in_data(self, cls) -> list:
        used = self.data_types()
        return [c for c in self.subclasses(cls) if is_iri(c) and c in used]

    def _type_pattern(self, var: str, cls) -> str:
        classes = self.classes_in_data(cls)
        if not classes:
            return "FILTER(false)"
        t = self.var()
        if len(classes) == 1:
            return f"{var} <{RDF.type}> {classes[0]} ."
        return f"{var} <{RDF.type}> {t} . VALUES {t} {{ {' '.join(str(c) for c in classes)} }}"

    def target_set(self, shape: Shape) -> NodeSet:
        parts = []
        consts = []
        classes: dict = {}
        for pred, o in shape.targets:
            if pred == SH.targetClass:
                for c in self.classes_in_data(o):  # classes without instances give no focus node
                    classes[c] = None
        if classes:
            cls_list = list(classes)
            if len(cls_list) == 1:
                parts.append(lambda var, c=cls_list[0]: f"{var} <{RDF.type}> {c} .")
            else:
                text = " ".join(str(c) for c in cls_list)
                parts.append(lambda var, text=text: (lambda t: f"{var} <{RDF.type}> {t} . VALUES {t} {{ {text} }}")(self.var()))
        for pred, o in shape.targets:
            if pred == SH.targetClass:
                continue
            elif pred == SH.targetNode:
                consts.append(from_rdflib(o))
            elif pred == SH.targetSubjectsOf:
                parts.append(lambda var, o=iri(o): f"{var} {o} {self.var()} .")
            elif pred == SH.targetObjectsOf:
                parts.append(lambda var, o=iri(o): f"{self.var()} {o} {var} .")
        if consts:
            self.view.remember(consts)
            text = " ".join(sparql_term(c) for c in consts)
            parts.append(lambda var, text=text: f"VALUES {var} {{ {text} }}")

        if not parts:
            empty = NodeSet(self, lambda var: "FILTER(false)", f"targets of {shape.node}")
            empty._nodes = []
            return empty

        subjects_of = None
        subj = [o for pred, o in shape.targets if pred == SH.targetSubjectsOf]
        if not classes and not consts and len(subj) == 1 and len(parts) == 1:
            subjects_of = iri(subj[0])

        def pat(var: str) -> str:
            if len(parts) == 1:
                return f"{{ {parts[0](var)} }}"
            body = " UNION ".join(f"{{ {p(var)} }}" for p in parts)
            return f"{{ SELECT DISTINCT {var} WHERE {{ {body} }} }}"

        ns = NodeSet(self, pat, f"targets of {shape.node}")
        ns.subjects_of = subjects_of
        return ns

    # running ------------------------------------------------------------------
    def run(self) -> list[Result]:
        """Evaluate every targeted shape; top-level shapes run on ``workers`` threads (the store
        answers queries in parallel), results keep the shapes graph's order."""
        shapes = self.shapes.targeted(self.shape_filter)
        self.data_types()
        self.subclasses(RDFS.Resource)  # build the shared caches before the threads start
        if self.workers > 1 and len(shapes) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(self.workers, thread_name_prefix="shacl") as pool:
                parts = list(pool.map(self._run_one, shapes))
        else:
            parts = [self._run_one(sh) for sh in shapes]
        return [r for part in parts for r in part]

    def _run_one(self, shape: Shape) -> list[Result]:
        import time

        t0 = time.perf_counter()
        out = self.evaluate(shape, self.target_set(shape))
        self.per_shape_s[shape.node] = time.perf_counter() - t0
        return out

    def _pushdown(self, shape: Shape, ns: NodeSet) -> list[Result] | None:
        """Violations straight from SPARQL when every constraint compiles (None: use the general path)."""
        p = shape.params
        allowed = _LOCAL | ({SH.minCount, SH.maxCount} if shape.is_property else set())
        qualified = {SH.qualifiedValueShape, SH.qualifiedMinCount}
        simple_q = (
            shape.is_property
            and len(p.get(SH.qualifiedValueShape, [])) == 1
            and [int(n) for n in p.get(SH.qualifiedMinCount, [])] == [1]
            and SH.qualifiedMaxCount not in p
            and not any(_is_true(d) for d in p.get(SH.qualifiedValueShapesDisjoint, []))
        )
        if simple_q:
            allowed = allowed | qualified | {SH.qualifiedValueShapesDisjoint}
        if not set(p) <= allowed or (shape.is_property and (SH.hasValue in p or SH.property in p)):
            self.paths["general"] += 1
            return None
        plan = []
        try:
            for pred, objs in p.items():
                if pred in (SH.flags, SH.minCount, SH.maxCount, SH.property, SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedValueShapesDisjoint):
                    continue
                for o in objs:
                    plan.append((pred, o))
            f, v = self.var(), self.var()
            queries = []
            conds = []
            for pred, o in plan:
                cond = self.compiler.component(pred, o, v if shape.is_property else f, shape)
                if cond:
                    conds.append((_COMPONENT[pred], cond))
            if conds:
                # one pass over the value nodes for all value-level components: each component's
                # condition is projected, rows are the value nodes that fail at least one
                ks = [self.var() for _ in conds]
                proj = " ".join(f"({c} AS {k})" for (_comp, c), k in zip(conds, ks))
                fails = " || ".join(f"!{k}" for k in ks)
                binds = " ".join(f"BIND({c} AS {k})" for (_comp, c), k in zip(conds, ks))
                comps = [comp for comp, _c in conds]
                if shape.is_property:
                    queries.append((comps, f"SELECT DISTINCT {f} {v} {' '.join(ks)} WHERE {{ {ns.pattern(f)} {f} {shape.path_sparql} {v} . {binds} FILTER({fails}) }}", True))
                else:
                    queries.append((comps, f"SELECT DISTINCT {f} {' '.join(ks)} WHERE {{ {ns.pattern(f)} {binds} FILTER({fails}) }}", False))
                del proj
            if simple_q:
                qx = self.var()
                qcond = self.compiler.shape_expr(p[SH.qualifiedValueShape][0], qx)
                queries.append(([SH.QualifiedMinCountConstraintComponent], f"SELECT DISTINCT {f} WHERE {{ {ns.pattern(f)} FILTER NOT EXISTS {{ {f} {shape.path_sparql} {qx} . FILTER({qcond}) }} }}", None))
        except _NotCompilable:
            self.paths["general"] += 1
            return None
        out: list[Result] = []

        def add(focus, value, comp) -> None:
            out.append(Result(focus, shape.path, value, shape.node, comp, shape.severity, shape.messages))

        if shape.is_property:
            x = self.var()
            for n in p.get(SH.minCount, []):
                n = int(n)
                if n == 1 and getattr(ns, "subjects_of", None) == shape.path_sparql:
                    continue  # every focus node is a subject of this very predicate
                if n == 1:
                    rows = self.rows(f"SELECT DISTINCT {f} WHERE {{ {ns.pattern(f)} FILTER NOT EXISTS {{ {f} {shape.path_sparql} {x} }} }}")
                    for (a,) in rows:
                        add(a, None, SH.MinCountConstraintComponent)
                elif n > 1:
                    vals = ns.values(shape.path_sparql)
                    for a, vs in vals.items():
                        if len(vs) < n:
                            add(a, None, SH.MinCountConstraintComponent)
            for n in p.get(SH.maxCount, []):
                c = self.var()
                if int(n) == 1:
                    y = self.var()
                    rows = self.rows(f"SELECT DISTINCT {f} WHERE {{ {ns.pattern(f)} {f} {shape.path_sparql} {x} . {f} {shape.path_sparql} {y} . FILTER(!sameTerm({x}, {y})) }}")
                    for (a,) in rows:
                        add(a, None, SH.MaxCountConstraintComponent)
                    continue
                rows = self.rows(f"SELECT {f} WHERE {{ {{ SELECT {f} (COUNT(DISTINCT {x}) AS {c}) WHERE {{ {ns.pattern(f)} {f} {shape.path_sparql} {x} . }} GROUP BY {f} }} FILTER({c} > {int(n)}) }}")
                for (a,) in rows:
                    add(a, None, SH.MaxCountConstraintComponent)
        try:
            for comps, q, is_prop in queries:
                for row in self.rows(q):
                    if is_prop is None:  # qualified: one result per focus node, no value
                        add(row[0], None, comps[0])
                        continue
                    value = row[1] if is_prop else row[0]
                    flags = row[2:] if is_prop else row[1:]
                    for comp, ok in zip(comps, flags):
                        if ok is None or ok.value != "true":
                            add(row[0], None if comp == SH.HasValueConstraintComponent else value, comp)
        except ShaclQueryError:
            # e.g. a sh:pattern the store's regex dialect rejects: evaluate this shape in Python
            self.paths["general"] += 1
            return None
        for ps in p.get(SH.property, []):
            out.extend(self.evaluate(self.shapes.shape(ps), ns))
        self.paths["pushdown"] += 1
        return out

    def _sparql_constraints(self, shape: Shape, ns: NodeSet) -> list[Result]:
        """SHACL-SPARQL constraints: the SELECT runs once per focus node with $this pre-bound."""
        out: list[Result] = []
        focus_nodes = ns.nodes()
        for cnode, text, prefixes, cmsgs in shape.sparql:
            q = text
            if shape.is_property:
                q = q.replace("$PATH", shape.path_sparql)
            if "$currentShape" in q:
                q = q.replace("$currentShape", iri(shape.node))
            for f in focus_nodes:
                names, rows = self.view.rows_bound(q, {"this": f}, prefixes=prefixes)
                for row in rows:
                    b = dict(zip(names, row))
                    if b.get("failure") is not None and str(getattr(b["failure"], "value", "")) == "true":
                        raise InputError("SHACL_SPARQL_FAILURE", f"SPARQL constraint of shape {shape.node} reported a failure for {f}")
                    value = b.get("value")
                    if value is None and not shape.is_property:
                        value = f
                    path = shape.path
                    if b.get("path") is not None and is_iri(b["path"]):
                        path = URIRef(b["path"].value)
                    msgs = [self._fill(m, b, f) for m in cmsgs] if cmsgs else ([rdflib.Literal(b["message"].value)] if b.get("message") is not None else shape.messages)
                    out.append(Result(f, path, value, shape.node, SH.SPARQLConstraintComponent, shape.severity, msgs, source_constraint=cnode))
        return out

    @staticmethod
    def _fill(msg, b: dict, focus) -> rdflib.Literal:
        """Replace {?var} / {$var} in a message template with the solution's values."""
        from kg_twin.store.view import to_rdflib

        def rep(m: re.Match) -> str:
            name = m.group(1)
            t = focus if name == "this" else b.get(name)
            if t is None:
                return m.group(0)
            r = to_rdflib(t)
            return str(r) if isinstance(r, rdflib.Literal) else r.n3()

        text = re.sub(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}", rep, str(msg))
        return rdflib.Literal(text, lang=getattr(msg, "language", None))

    def failing(self, shape_node, ns: NodeSet) -> set:
        """Nodes of ``ns`` that do not conform to the shape."""
        key = (shape_node, id(ns))
        if key not in self._failing:
            self._failing[key] = (ns, {r.focus for r in self.evaluate(self.shapes.shape(shape_node), ns)})
        return self._failing[key][1]

    def evaluate(self, shape: Shape, ns: NodeSet) -> list[Result]:
        if shape.deactivated or (not shape.params and not shape.sparql) or ns._nodes == []:
            return []
        if shape.sparql:
            sparql_results = self._sparql_constraints(shape, ns)
            if not shape.params:
                return sparql_results
        else:
            sparql_results = []
        if self.pushdown:
            fast = self._pushdown(shape, ns)
            if fast is not None:
                return sparql_results + fast
        if shape.is_property:
            values = ns.values(shape.path_sparql)
            vns = ns.value_set(shape.path_sparql)
        else:
            values = {n: [n] for n in ns.nodes()}
            vns = ns
        out: list[Result] = []

        def add(focus, value, comp, path=shape.path) -> None:
            out.append(Result(focus, path, value, shape.node, comp, shape.severity, shape.messages))

        def per_value(ok: Callable[[Any], bool], comp) -> None:
            for f, vs in values.items():
                for v in vs:
                    if not ok(v):
                        add(f, v, comp)

        p = shape.params
        for cls in p.get(SH["class"], []):
            inst = self.instances(vns, cls)
            per_value(lambda v, inst=inst: v in inst, SH.ClassConstraintComponent)
        for dt in p.get(SH.datatype, []):
            per_value(lambda v, dt=str(dt): self._datatype_ok(v, dt), SH.DatatypeConstraintComponent)
        for nk in p.get(SH.nodeKind, []):
            if nk not in _NODEKINDS:
                raise InputError("SHACL_BAD_NODEKIND", f"unknown sh:nodeKind {nk} in shape {shape.node}")
            allow = _NODEKINDS[nk]
            per_value(lambda v, a=allow: (a[0] and is_iri(v)) or (a[1] and is_bnode(v)) or (a[2] and is_literal(v)), SH.NodeKindConstraintComponent)
        if shape.is_property:
            for n in p.get(SH.minCount, []):
                for f, vs in values.items():
                    if len(vs) < int(n):
                        add(f, None, SH.MinCountConstraintComponent)
            for n in p.get(SH.maxCount, []):
                for f, vs in values.items():
                    if len(vs) > int(n):
                        add(f, None, SH.MaxCountConstraintComponent)
        for pred, (expr, comp) in _COMPARE.items():
            for lit in p.get(pred, []):
                bad = self._compare_failures(ns, shape, expr.format(lit=sparql_term(from_rdflib(lit)), v="{v}"))
                for f, vs in values.items():
                    for v in vs:
                        if (f, v) in bad:
                            add(f, v, comp)
        for n in p.get(SH.minLength, []):
            per_value(lambda v, n=int(n): not is_bnode(v) and len(v.value) >= n, SH.MinLengthConstraintComponent)
        for n in p.get(SH.maxLength, []):
            per_value(lambda v, n=int(n): not is_bnode(v) and len(v.value) <= n, SH.MaxLengthConstraintComponent)
        if SH.pattern in p:
            flags = str(shape.one(SH.flags) or "")
            fl = 0
            for ch, bit in (("i", re.IGNORECASE), ("s", re.DOTALL), ("m", re.MULTILINE), ("x", re.VERBOSE)):
                if ch in flags:
                    fl |= bit
            for pat in p[SH.pattern]:
                rx = re.compile(str(pat), fl)
                per_value(lambda v, rx=rx: not is_bnode(v) and rx.search(v.value) is not None, SH.PatternConstraintComponent)
        for lst in p.get(SH.languageIn, []):
            ranges = [str(x) for x in self.shapes.list_of(lst)]
            per_value(lambda v, r=ranges: is_literal(v) and bool(v.language) and any(_lang_matches(v.language, x) for x in r), SH.LanguageInConstraintComponent)
        if shape.is_property:
            for flag in p.get(SH.uniqueLang, []):
                if not _is_true(flag):
                    continue
                for f, vs in values.items():
                    langs = defaultdict(int)
                    for v in vs:
                        if is_literal(v) and v.language:
                            langs[v.language.lower()] += 1
                    for _lang, c in langs.items():
                        if c > 1:
                            add(f, None, SH.UniqueLangConstraintComponent)
        for prop in p.get(SH.equals, []):
            other = ns.values(iri(prop))
            for f, vs in values.items():
                a, b = set(vs), set(other.get(f, []))
                for v in vs:
                    if v not in b:
                        add(f, v, SH.EqualsConstraintComponent)
                for v in other.get(f, []):
                    if v not in a:
                        add(f, v, SH.EqualsConstraintComponent)
        for prop in p.get(SH.disjoint, []):
            other = ns.values(iri(prop))
            for f, vs in values.items():
                b = set(other.get(f, []))
                for v in vs:
                    if v in b:
                        add(f, v, SH.DisjointConstraintComponent)
        for pred, op, comp in ((SH.lessThan, "<", SH.LessThanConstraintComponent), (SH.lessThanOrEquals, "<=", SH.LessThanOrEqualsConstraintComponent)):
            for prop in p.get(pred, []):
                for f, v in self._less_failures(ns, shape, iri(prop), op):
                    add(f, v, comp)
        for lst in p.get(SH["in"], []):
            allowed = {from_rdflib(x) for x in self.shapes.list_of(lst)}
            per_value(lambda v, a=allowed: v in a, SH.InConstraintComponent)
        for hv in p.get(SH.hasValue, []):
            t = from_rdflib(hv)
            for f, vs in values.items():
                if t not in vs:
                    add(f, None, SH.HasValueConstraintComponent)
        if any(_is_true(c) for c in p.get(SH.closed, [])):
            allowed = set()
            for ps in p.get(SH.property, []):
                path = self.shapes.g.value(ps, SH.path)
                if isinstance(path, URIRef):
                    allowed.add(path)
            for lst in p.get(SH.ignoredProperties, []):
                allowed.update(x for x in self.shapes.list_of(lst) if isinstance(x, URIRef))
            rev = defaultdict(list)
            for f, vs in values.items():
                for v in vs:
                    rev[v].append(f)
            x, pv, o = self.var(), self.var(), self.var()
            filt = f"FILTER({pv} NOT IN ({', '.join(iri(a) for a in allowed)}))" if allowed else ""
            for f, pred, val in self.rows(f"SELECT DISTINCT {x} {pv} {o} WHERE {{ {vns.pattern(x)} {x} {pv} {o} . {filt} }}"):
                for focus in rev.get(f, ()):
                    add(focus, val, SH.ClosedConstraintComponent, path=URIRef(pred.value))
        for sn in p.get(SH.node, []):
            bad = self.failing(sn, vns)
            per_value(lambda v, b=bad: v not in b, SH.NodeConstraintComponent)
        for sn in p.get(SH["not"], []):
            bad = self.failing(sn, vns)
            per_value(lambda v, b=bad: v in b, SH.NotConstraintComponent)
        for lst in p.get(SH["and"], []):
            bads = [self.failing(sn, vns) for sn in self.shapes.list_of(lst)]
            per_value(lambda v, bs=bads: not any(v in b for b in bs), SH.AndConstraintComponent)
        for lst in p.get(SH["or"], []):
            bads = [self.failing(sn, vns) for sn in self.shapes.list_of(lst)]
            per_value(lambda v, bs=bads: any(v not in b for b in bs), SH.OrConstraintComponent)
        for lst in p.get(SH.xone, []):
            bads = [self.failing(sn, vns) for sn in self.shapes.list_of(lst)]
            per_value(lambda v, bs=bads: sum(1 for b in bs if v not in b) == 1, SH.XoneConstraintComponent)
        if shape.is_property:
            for q in p.get(SH.qualifiedValueShape, []):
                self._qualified(shape, q, values, vns, add)
        for ps in p.get(SH.property, []):
            nested = self.evaluate(self.shapes.shape(ps), vns)
            if shape.is_property and nested:
                # one result per (focus node, value node) pair, as for any other constraint
                mult: dict = defaultdict(int)
                for vs in values.values():
                    for v in vs:
                        mult[v] += 1
                nested = [r for r in nested for _ in range(mult.get(r.focus, 1))]
            out.extend(nested)
        return sparql_results + out

    def instances(self, ns: NodeSet, cls) -> set:
        """Nodes of ``ns`` that are SHACL instances of ``cls`` (data types, or closure individuals)."""
        x = self.var()
        found = {r[0] for r in self.rows(f"SELECT DISTINCT {x} WHERE {{ {ns.pattern(x)} {self._type_pattern(x, cls)} }}")}
        return found | self.closure_instances(cls)

    def _datatype_ok(self, v, dt: str) -> bool:
        if not is_literal(v):
            return False
        if dt == RDF_LANGSTRING:
            return bool(v.language)
        if v.language or v.datatype.value != dt:
            return False
        if dt == XSD_STRING or not dt.startswith(XSD_NS):
            return True
        key = (v.value, dt)
        ok = self._dt_ok.get(key)
        if ok is None:
            ok = xsd_lexical_ok(v.value, dt)
            self._dt_ok[key] = ok
        return ok

    def _compare_failures(self, ns: NodeSet, shape: Shape, expr: str) -> set:
        x, v = self.var(), self.var()
        if shape.is_property:
            q = f"SELECT DISTINCT {x} {v} WHERE {{ {ns.pattern(x)} {x} {shape.path_sparql} {v} . FILTER(!COALESCE({expr.format(v=v)}, false)) }}"
            return {(a, b) for a, b in self.rows(q)}
        q = f"SELECT DISTINCT {x} WHERE {{ {ns.pattern(x)} FILTER(!COALESCE({expr.format(v=x)}, false)) }}"
        return {(a, a) for (a,) in self.rows(q)}

    def _less_failures(self, ns: NodeSet, shape: Shape, prop: str, op: str) -> list:
        x, v, o = self.var(), self.var(), self.var()
        if shape.is_property:
            q = f"SELECT DISTINCT {x} {v} {o} WHERE {{ {ns.pattern(x)} {x} {shape.path_sparql} {v} . {x} {prop} {o} . FILTER(!COALESCE({v} {op} {o}, false)) }}"
            return [(a, b) for a, b, _ in self.rows(q)]
        q = f"SELECT DISTINCT {x} {o} WHERE {{ {ns.pattern(x)} {x} {prop} {o} . FILTER(!COALESCE({x} {op} {o}, false)) }}"
        return [(a, a) for a, _ in self.rows(q)]

    def _qualified(self, shape: Shape, q, values: dict, vns: NodeSet, add) -> None:
        p = shape.params
        qmin = p.get(SH.qualifiedMinCount)
        qmax = p.get(SH.qualifiedMaxCount)
        if not qmin and not qmax:
            return
        conform_bad = self.failing(q, vns)
        sib_bad: list[set] = []
        if any(_is_true(d) for d in p.get(SH.qualifiedValueShapesDisjoint, [])):
            siblings = set()
            for parent in self.shapes.parents(shape.node):
                for ps in self.shapes.g.objects(parent, SH.property):
                    if ps == shape.node:
                        continue
                    for sq in self.shapes.g.objects(ps, SH.qualifiedValueShape):
                        if sq != q:
                            siblings.add(sq)
            sib_bad = [self.failing(s, vns) for s in siblings]
        for f, vs in values.items():
            n = sum(1 for v in vs if v not in conform_bad and all(v in b for b in sib_bad))
            if qmin and n < int(qmin[0]):
                add(f, None, SH.QualifiedMinCountConstraintComponent)
            if qmax and n > int(qmax[0]):
                add(f, None, SH.QualifiedMaxCountConstraintComponent)


def run(view: ShaclView, shapes: rdflib.Graph, *, shape_filter=None) -> tuple[list[Result], dict]:
    """Run the kgtwin engine; returns the results and the seconds spent per top-level shape."""
    eng = Engine(view, shapes, shape_filter=shape_filter)
    results = eng.run()
    return results, eng.per_shape_s


def iter_components(results: Iterable[Result]) -> list[str]:
    return sorted({str(r.component) for r in results})
