"""The engine's data model: the SHACL namespace, a parsed shape, one validation result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import rdflib
from rdflib import URIRef

from kg_twin.errors import InputError

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
ENGINE_NAME = "kgtwin"

_TARGET_PREDS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_SPARQL_PREDS = (SH.sparql, SH.select, SH.ask)


class UnsupportedShape(InputError):
    """The shape uses a feature the engine cannot evaluate: refused, never skipped."""


@dataclass
class SparqlPart:
    """A SHACL-SPARQL query of the shapes graph: an sh:sparql constraint or a component's validator."""

    node: Any  # rdflib node of the constraint / validator
    text: str  # the sh:select or sh:ask query
    ask: bool
    prefixes: dict  # prefix -> namespace (sh:prefixes, through owl:imports)
    messages: list  # rdflib Literals (templates with {$var} / {?var})


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
    sparql: list = field(default_factory=list)  # SHACL-SPARQL constraints (SparqlPart)
    components: list = field(default_factory=list)  # SPARQL-based components in use: (component, {param: value}, SparqlPart)

    @property
    def is_property(self) -> bool:
        return self.path is not None

    def all(self, pred) -> list:
        return self.params.get(pred, [])

    def one(self, pred):
        v = self.params.get(pred)
        return v[0] if v else None


def _is_true(lit) -> bool:
    return isinstance(lit, rdflib.Literal) and lit.datatype == rdflib.XSD.boolean and str(lit) == "true"
