"""SHACL-SPARQL evaluation: sh:sparql constraints (SHACL 5) and SPARQL-based constraint components (SHACL 6).

Each query runs once per focus node (ASK validators once per value node) with the pre-bound
variables substituted as the spec defines them (:mod:`kg_twin.validation.prebinding`).
``$shapesGraph`` names the shapes graph, which the view holds next to the data when it owns its
store (files, uploads); on a shared store it is refused with an error, never left unbound.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import rdflib
from rdflib import URIRef

from kg_twin.errors import InputError
from kg_twin.store.view import from_rdflib, is_iri, to_rdflib
from kg_twin.validation.model import SH, Result, Shape, SparqlPart
from kg_twin.validation.prebinding import mentions, prebind

if TYPE_CHECKING:
    from kg_twin.validation.engine import Engine
    from kg_twin.validation.nodeset import NodeSet


class SparqlEvaluator:
    def __init__(self, engine: "Engine") -> None:
        self.e = engine
        self.view = engine.view

    # one query -------------------------------------------------------------------------
    def _run(self, part: SparqlPart, shape: Shape, bindings: dict[str, Any]) -> Any:
        view = self.view
        b = {k: view.stored.get(v, v) for k, v in bindings.items()}  # constants in the store's form
        b["currentShape"] = from_rdflib(shape.node)
        if mentions(part.text, "shapesGraph"):
            if view.shapes_graph is None:
                raise InputError(
                    "SHACL_SHAPES_GRAPH_UNAVAILABLE",
                    f"query {part.node.n3()} of shape {shape.node.n3()} uses $shapesGraph, which is only available when validating files or uploaded data",
                    hint="validate the data with `kg-twin validate --data FILE --shapes FILE`, or POST it with the shapes to /projects/{p}/validate",
                )
            b["shapesGraph"] = from_rdflib(URIRef(view.shapes_graph))
        text, fns = prebind(part.text, b, path=shape.path_sparql)
        return view.run_prebound(text, prefixes=part.prefixes, functions=fns)

    @staticmethod
    def _fill(msgs: list, b: dict[str, Any]) -> list:
        """Replace {?var} / {$var} in message templates with the solution's (or parameters') values."""

        def rep(m: re.Match) -> str:
            t = b.get(m.group(1))
            if t is None:
                return m.group(0)
            r = t if isinstance(t, rdflib.term.Node) else to_rdflib(t)
            return str(r) if isinstance(r, rdflib.Literal) else r.n3()

        return [rdflib.Literal(re.sub(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}", rep, str(m)), lang=getattr(m, "language", None)) for m in msgs]

    def _select_results(self, part: SparqlPart, shape: Shape, focus, bindings: dict, component, source_constraint) -> list[Result]:
        res = self._run(part, shape, {"this": focus, **bindings})
        names, rows = res
        out = []
        for row in rows:
            b = dict(zip(names, row))
            failure = b.get("failure")
            if failure is not None and getattr(failure, "value", "") in ("true", "1"):
                raise InputError("SHACL_SPARQL_FAILURE", f"query {part.node.n3()} of shape {shape.node.n3()} reported a failure for {focus}", hint="the query binds ?failure to true: fix the data or the query")
            value = b.get("value")
            if value is None and not shape.is_property:
                value = focus
            path = shape.path
            if b.get("path") is not None and is_iri(b["path"]):
                path = URIRef(b["path"].value)
            ctx = {**bindings, **{k: v for k, v in b.items() if v is not None}, "this": focus}
            msgs = self._fill(part.messages, ctx) if part.messages else ([rdflib.Literal(b["message"].value)] if b.get("message") is not None else shape.messages)
            out.append(Result(focus, path, value, shape.node, component, shape.severity, msgs, source_constraint=source_constraint))
        return out

    # sh:sparql constraints -----------------------------------------------------------------
    def constraints(self, shape: Shape, ns: "NodeSet") -> list[Result]:
        out: list[Result] = []
        for part in shape.sparql:
            for f in ns.nodes():
                out.extend(self._select_results(part, shape, f, {}, SH.SPARQLConstraintComponent, part.node))
        return out

    # SPARQL-based constraint components ---------------------------------------------------------
    def components(self, shape: Shape, ns: "NodeSet") -> list[Result]:
        out: list[Result] = []
        if not shape.components:
            return out
        values = ns.values(shape.path_sparql) if shape.is_property else {n: [n] for n in ns.nodes()}
        for comp, params, part in shape.components:
            bound = {k: from_rdflib(v) for k, v in params.items()}
            if not part.ask:
                for f in ns.nodes():
                    out.extend(self._select_results(part, shape, f, bound, comp, None))
                continue
            for f, vs in values.items():
                for v in vs:
                    if not self._run(part, shape, {"this": f, "value": v, **bound}):
                        ctx = {**bound, "this": f, "value": v}
                        msgs = self._fill(part.messages, ctx) if part.messages else shape.messages
                        out.append(Result(f, shape.path, v, shape.node, comp, shape.severity, msgs))
        return out
