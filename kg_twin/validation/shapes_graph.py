"""Shapes graphs: which nodes are shapes, their targets, parameters, paths and SPARQL parts."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable

import rdflib
from rdflib import OWL, RDF, RDFS, URIRef
from rdflib.collection import Collection

from kg_twin.errors import InputError
from kg_twin.store.view import from_rdflib
from kg_twin.validation.model import _TARGET_PREDS, SH, Shape, SparqlPart, UnsupportedShape, _is_true
from kg_twin.validation.prebinding import UnsupportedSparql, check


@dataclass
class Parameter:
    path: URIRef
    name: str  # the variable the validator's query uses: the local name of the path
    optional: bool


@dataclass
class Component:
    """A SPARQL-based constraint component (SHACL 6)."""

    node: Any
    params: list
    validators: dict  # "ask" (sh:validator) / "node" / "property" -> (node, query text, is ASK)
    messages: list

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
        self._components: dict | None = None

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
            if _is_true(g.value(c, SH.deactivated)):
                continue
            sel = g.value(c, SH.select)
            if sel is None:
                raise UnsupportedShape(
                    "SHACL_SPARQL_NO_SELECT", f"SPARQL constraint {c.n3()} of shape {node.n3()} has no sh:select", hint="give the constraint an sh:select query (SHACL 5.1)"
                )
            s.sparql.append(self._part(c, sel, ask=False, prebound={"this", "shapesGraph", "currentShape"}, where=f"shape {node.n3()}"))
        for comp in self.components().values():
            s.components.extend(self._uses(s, comp, props))
        return s

    def _part(self, node, text, *, ask: bool, prebound: set[str], where: str, messages: list | None = None) -> SparqlPart:
        try:
            check(str(text), prebound)
        except UnsupportedSparql as e:
            raise UnsupportedSparql(e.code, f"{where}, query {node.n3()}: {e.message}", hint=e.hint) from None
        msgs = list(self.g.objects(node, SH.message)) or list(messages or [])
        return SparqlPart(node, str(text), ask, self.prefixes(node), msgs)

    def _uses(self, s: Shape, comp: Component, props: dict) -> list:
        """(component, parameter bindings, validator) for each way the shape uses the component."""
        if any(p.path not in props for p in comp.params if not p.optional):
            return []
        present = [p for p in comp.params if p.path in props]
        if not present:
            return []
        kind = "property" if s.is_property else "node"
        validator = comp.validators.get(kind) or comp.validators.get("ask")
        if validator is None:
            raise UnsupportedShape(
                "SHACL_COMPONENT_NO_VALIDATOR",
                f"shape {s.node.n3()} uses constraint component {comp.node.n3()}, which has no validator for {kind} shapes",
                hint=f"give the component an sh:validator (ASK) or an sh:{kind}Validator (SELECT)",
            )
        vnode, text, ask = validator
        names = {p.name for p in comp.params}
        part = self._part(vnode, text, ask=ask, prebound={"this", "shapesGraph", "currentShape"} | names | ({"value"} if ask else set()), where=f"component {comp.node.n3()}", messages=comp.messages)
        out = []
        for combo in itertools.product(*[props[p.path] for p in present]):
            out.append((comp.node, {p.name: v for p, v in zip(present, combo)}, part))
        return out

    def components(self) -> dict:
        """SPARQL-based constraint components declared in the shapes graph (instances of
        sh:ConstraintComponent or of any of its subclasses), by node."""
        if self._components is None:
            g = self.g
            classes = {SH.ConstraintComponent}
            todo = [SH.ConstraintComponent]
            while todo:
                for sub in g.subjects(RDFS.subClassOf, todo.pop()):
                    if sub not in classes:
                        classes.add(sub)
                        todo.append(sub)
            found: dict = {}
            for cls in classes:
                for cc in g.subjects(RDF.type, cls):
                    if cc in found or (isinstance(cc, URIRef) and str(cc).startswith(str(SH))):
                        continue
                    found[cc] = self._component(cc)
            self._components = found
        return self._components

    def _component(self, cc) -> Component:
        g = self.g
        params = []
        for prm in g.objects(cc, SH.parameter):
            path = g.value(prm, SH.path)
            if not isinstance(path, URIRef):
                raise UnsupportedShape("SHACL_BAD_PARAMETER", f"a parameter of constraint component {cc.n3()} has no IRI sh:path", hint="give each sh:parameter an sh:path IRI")
            local = re.split(r"[#/:]", str(path))[-1]
            params.append(Parameter(path, local, _is_true(g.value(prm, SH.optional))))
        validators: dict = {}
        for pred, kind in ((SH.validator, "ask"), (SH.nodeValidator, "node"), (SH.propertyValidator, "property")):
            for v in g.objects(cc, pred):
                ask, sel = g.value(v, SH.ask), g.value(v, SH.select)
                if (ask is None) == (sel is None):
                    raise UnsupportedShape(
                        "SHACL_BAD_VALIDATOR", f"validator {v.n3()} of constraint component {cc.n3()} needs exactly one of sh:ask / sh:select", hint="fix the validator"
                    )
                validators[kind] = (v, ask if ask is not None else sel, ask is not None)
        if not params:
            raise UnsupportedShape("SHACL_BAD_COMPONENT", f"constraint component {cc.n3()} declares no sh:parameter", hint="declare its parameters (SHACL 6.1)")
        return Component(cc, params, validators, list(g.objects(cc, SH.message)))

    def prefixes(self, node) -> dict[str, str]:
        """Prefix declarations of a SPARQL query: the sh:declare values of its sh:prefixes nodes and
        of the nodes those reach through owl:imports (SHACL 5.2.2)."""
        out: dict[str, str] = {}
        g = self.g
        todo = list(g.objects(node, SH.prefixes))
        seen: set = set()
        while todo:
            holder = todo.pop()
            if holder in seen:
                continue
            seen.add(holder)
            for decl in g.objects(holder, SH.declare):
                pfx, ns = g.value(decl, SH.prefix), g.value(decl, SH.namespace)
                if pfx is None or ns is None:
                    continue
                if out.get(str(pfx), str(ns)) != str(ns):
                    raise UnsupportedShape(
                        "SHACL_PREFIX_CONFLICT", f"prefix {pfx!s}: is declared with two namespaces for query {node.n3()}", hint="declare each prefix once (SHACL 5.2.2)"
                    )
                out[str(pfx)] = str(ns)
            todo.extend(g.objects(holder, OWL.imports))
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

    def refused(self, node) -> bool:
        """Is the shape one the kgtwin engine refuses (what ``engine="auto"`` hands to pyshacl)?
        Queries that break SHACL-SPARQL's own rules are errors for every engine, never handed on."""
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
