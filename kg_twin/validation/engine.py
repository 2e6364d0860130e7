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
import re
from collections import defaultdict
from typing import Any, Callable, Iterable

import rdflib
from rdflib import RDF, RDFS, URIRef

from kg_twin.errors import InputError
from kg_twin.store.view import RDF_LANGSTRING, XSD_STRING, ShaclQueryError, ShaclView, from_rdflib, is_bnode, is_iri, is_literal, sparql_term
from kg_twin.validation.compiler import _COMPARE, _COMPONENT, _LOCAL, _NODEKINDS, Compiler, _NotCompilable
from kg_twin.validation.model import _TARGET_PREDS, ENGINE_NAME, SH, Result, Shape, UnsupportedShape, _is_true  # noqa: F401 - re-exported
from kg_twin.validation.nodeset import NodeSet
from kg_twin.validation.sparql_eval import SparqlEvaluator
from kg_twin.validation.shapes_graph import ShapesGraph, iri, path_to_sparql  # noqa: F401 - re-exported
from kg_twin.validation.xsd import XSD_NS, _lang_matches, xsd_lexical_ok

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
