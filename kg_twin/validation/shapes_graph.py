"""Shapes graphs: which nodes are shapes, their targets, parameters, paths and SPARQL parts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

import rdflib
from rdflib import OWL, RDF, RDFS, URIRef
from rdflib.collection import Collection

from kg_twin.errors import InputError
from kg_twin.store.view import from_rdflib
from kg_twin.validation.model import _TARGET_PREDS, SH, Shape, UnsupportedShape, _is_true

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
