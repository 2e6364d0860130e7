"""SHACL engine that evaluates shapes as set-at-a-time SPARQL queries on the store.

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
    set of value nodes at once. Supports all of SHACL Core and SHACL-SPARQL
    (``sh:sparql`` constraints and SPARQL-based constraint components, with
    pre-binding as the spec defines it: :mod:`kg_twin.validation.sparql_eval`).
    A shape or component it cannot evaluate is refused with an error naming it
    (stable code, hint), never skipped.
``pyshacl``
    The reference Python implementation, run on a copy of the data graphs in rdflib.
    Slower; chosen only when asked (``engine="pyshacl"``), or per shape with
    ``engine="auto"`` for shapes the kgtwin engine refuses. The report names the engine
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
from collections import defaultdict
from typing import Any, Callable, Iterable

import rdflib
from rdflib import RDF, RDFS

from kg_twin.store.view import ShaclQueryError, ShaclView, from_rdflib, is_iri, is_literal, sparql_term
from kg_twin.validation.components import check_all
from kg_twin.validation.compiler import _COMPONENT, _LOCAL, Compiler, _NotCompilable
from kg_twin.validation.model import _TARGET_PREDS, ENGINE_NAME, SH, Result, Shape, UnsupportedShape, _is_true  # noqa: F401 - re-exported
from kg_twin.validation.nodeset import NodeSet
from kg_twin.validation.sparql_eval import SparqlEvaluator
from kg_twin.validation.shapes_graph import ShapesGraph, iri, path_to_sparql  # noqa: F401 - re-exported


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
        self.sparql = SparqlEvaluator(self)
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
                fails = " || ".join(f"!{k}" for k in ks)
                binds = " ".join(f"BIND({c} AS {k})" for (_comp, c), k in zip(conds, ks))
                comps = [comp for comp, _c in conds]
                if shape.is_property:
                    queries.append((comps, f"SELECT DISTINCT {f} {v} {' '.join(ks)} WHERE {{ {ns.pattern(f)} {f} {shape.path_sparql} {v} . {binds} FILTER({fails}) }}", True))
                else:
                    queries.append((comps, f"SELECT DISTINCT {f} {' '.join(ks)} WHERE {{ {ns.pattern(f)} {binds} FILTER({fails}) }}", False))
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

    def failing(self, shape_node, ns: NodeSet) -> set:
        """Nodes of ``ns`` that do not conform to the shape."""
        key = (shape_node, id(ns))
        if key not in self._failing:
            self._failing[key] = (ns, {r.focus for r in self.evaluate(self.shapes.shape(shape_node), ns)})
        return self._failing[key][1]

    def evaluate(self, shape: Shape, ns: NodeSet) -> list[Result]:
        if shape.deactivated or (not shape.params and not shape.sparql and not shape.components) or ns._nodes == []:
            return []
        sparql_results = self.sparql.constraints(shape, ns) + self.sparql.components(shape, ns)
        if not shape.params:
            return sparql_results
        if self.pushdown:
            fast = self._pushdown(shape, ns)
            if fast is not None:
                return sparql_results + fast
        return sparql_results + check_all(self, shape, ns)

    def instances(self, ns: NodeSet, cls) -> set:
        """Nodes of ``ns`` that are SHACL instances of ``cls`` (data types, or closure individuals)."""
        x = self.var()
        found = {r[0] for r in self.rows(f"SELECT DISTINCT {x} WHERE {{ {ns.pattern(x)} {self._type_pattern(x, cls)} }}")}
        return found | self.closure_instances(cls)


def run(view: ShaclView, shapes: rdflib.Graph, *, shape_filter=None) -> tuple[list[Result], dict]:
    """Run the kgtwin engine; returns the results and the seconds spent per top-level shape."""
    eng = Engine(view, shapes, shape_filter=shape_filter)
    results = eng.run()
    return results, eng.per_shape_s


def iter_components(results: Iterable[Result]) -> list[str]:
    return sorted({str(r.component) for r in results})
