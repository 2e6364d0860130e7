"""The general path of the kgtwin SHACL engine: one checker per SHACL Core constraint component.

:meth:`Engine.evaluate <kg_twin.validation.engine.Engine.evaluate>` takes this path for a shape whose
constraints could not be pushed down into one SPARQL query (:mod:`kg_twin.validation.compiler`). The value
nodes of the shape are fetched once (a :class:`Values`); each checker reads the parameters of its component
and reports failures through :meth:`Values.add`. ``CHECKS`` lists the checkers in the order results are
reported.

>>> [pred.split("#")[1] for pred, _ in CHECKS][:3]
['class', 'datatype', 'nodeKind']
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from rdflib import URIRef

from kg_twin.errors import InputError
from kg_twin.store.view import RDF_LANGSTRING, XSD_STRING, from_rdflib, is_bnode, is_iri, is_literal, sparql_term
from kg_twin.validation.compiler import _COMPARE, _NODEKINDS
from kg_twin.validation.model import SH, Result, Shape, _is_true
from kg_twin.validation.nodeset import NodeSet
from kg_twin.validation.shapes_graph import iri
from kg_twin.validation.xsd import XSD_NS, _lang_matches, xsd_lexical_ok

if TYPE_CHECKING:
    from kg_twin.validation.engine import Engine


@dataclass
class Values:
    """The value nodes of ``shape`` for the focus nodes ``ns``: ``values`` maps each focus node to its
    values (itself for a node shape), ``vns`` is the set of all value nodes; failures go to ``out``."""

    engine: "Engine"
    shape: Shape
    ns: NodeSet
    values: dict
    vns: NodeSet
    out: list[Result] = field(default_factory=list)

    @classmethod
    def of(cls, engine: "Engine", shape: Shape, ns: NodeSet) -> "Values":
        if shape.is_property:
            return cls(engine, shape, ns, ns.values(shape.path_sparql), ns.value_set(shape.path_sparql))
        return cls(engine, shape, ns, {n: [n] for n in ns.nodes()}, ns)

    def add(self, focus, value, comp, path=None) -> None:
        s = self.shape
        self.out.append(Result(focus, s.path if path is None else path, value, s.node, comp, s.severity, s.messages))

    def per_value(self, ok: Callable[[Any], bool], comp) -> None:
        """Report every value node for which ``ok`` is false."""
        for f, vs in self.values.items():
            for v in vs:
                if not ok(v):
                    self.add(f, v, comp)

    def per_focus(self, ok: Callable[[list], bool], comp) -> None:
        """Report every focus node (without a value) whose list of values fails ``ok``."""
        for f, vs in self.values.items():
            if not ok(vs):
                self.add(f, None, comp)


def check_class(c: Values, objs: list) -> None:
    for cls in objs:
        inst = c.engine.instances(c.vns, cls)
        c.per_value(lambda v, inst=inst: v in inst, SH.ClassConstraintComponent)


def check_datatype(c: Values, objs: list) -> None:
    for dt in objs:
        c.per_value(lambda v, dt=str(dt): datatype_ok(c.engine, v, dt), SH.DatatypeConstraintComponent)


def datatype_ok(engine: "Engine", v, dt: str) -> bool:
    if not is_literal(v):
        return False
    if dt == RDF_LANGSTRING:
        return bool(v.language)
    if v.language or v.datatype.value != dt:
        return False
    if dt == XSD_STRING or not dt.startswith(XSD_NS):
        return True
    key = (v.value, dt)
    ok = engine._dt_ok.get(key)
    if ok is None:
        ok = xsd_lexical_ok(v.value, dt)
        engine._dt_ok[key] = ok
    return ok


def check_node_kind(c: Values, objs: list) -> None:
    for nk in objs:
        if nk not in _NODEKINDS:
            raise InputError("SHACL_BAD_NODEKIND", f"unknown sh:nodeKind {nk} in shape {c.shape.node}")
        a = _NODEKINDS[nk]
        c.per_value(lambda v, a=a: (a[0] and is_iri(v)) or (a[1] and is_bnode(v)) or (a[2] and is_literal(v)), SH.NodeKindConstraintComponent)


def check_min_count(c: Values, objs: list) -> None:
    if c.shape.is_property:
        for n in objs:
            c.per_focus(lambda vs, n=int(n): len(vs) >= n, SH.MinCountConstraintComponent)


def check_max_count(c: Values, objs: list) -> None:
    if c.shape.is_property:
        for n in objs:
            c.per_focus(lambda vs, n=int(n): len(vs) <= n, SH.MaxCountConstraintComponent)


def comparison(pred) -> Callable[[Values, list], None]:
    """sh:minExclusive & co: the SPARQL operator SHACL defines them by, evaluated by the store."""
    expr, comp = _COMPARE[pred]

    def check(c: Values, objs: list) -> None:
        for lit in objs:
            bad = compare_failures(c, expr.format(lit=sparql_term(from_rdflib(lit)), v="{v}"))
            for f, vs in c.values.items():
                for v in vs:
                    if (f, v) in bad:
                        c.add(f, v, comp)

    return check


def compare_failures(c: Values, expr: str) -> set:
    e, shape = c.engine, c.shape
    x, v = e.var(), e.var()
    if shape.is_property:
        q = f"SELECT DISTINCT {x} {v} WHERE {{ {c.ns.pattern(x)} {x} {shape.path_sparql} {v} . FILTER(!COALESCE({expr.format(v=v)}, false)) }}"
        return {(a, b) for a, b in e.rows(q)}
    q = f"SELECT DISTINCT {x} WHERE {{ {c.ns.pattern(x)} FILTER(!COALESCE({expr.format(v=x)}, false)) }}"
    return {(a, a) for (a,) in e.rows(q)}


def check_min_length(c: Values, objs: list) -> None:
    for n in objs:
        c.per_value(lambda v, n=int(n): not is_bnode(v) and len(v.value) >= n, SH.MinLengthConstraintComponent)


def check_max_length(c: Values, objs: list) -> None:
    for n in objs:
        c.per_value(lambda v, n=int(n): not is_bnode(v) and len(v.value) <= n, SH.MaxLengthConstraintComponent)


_FLAGS = (("i", re.IGNORECASE), ("s", re.DOTALL), ("m", re.MULTILINE), ("x", re.VERBOSE))


def check_pattern(c: Values, objs: list) -> None:
    flags = str(c.shape.one(SH.flags) or "")
    fl = 0
    for ch, bit in _FLAGS:
        if ch in flags:
            fl |= bit
    for pat in objs:
        rx = re.compile(str(pat), fl)
        c.per_value(lambda v, rx=rx: not is_bnode(v) and rx.search(v.value) is not None, SH.PatternConstraintComponent)


def check_language_in(c: Values, objs: list) -> None:
    for lst in objs:
        ranges = [str(x) for x in c.engine.shapes.list_of(lst)]
        c.per_value(lambda v, r=ranges: is_literal(v) and bool(v.language) and any(_lang_matches(v.language, x) for x in r), SH.LanguageInConstraintComponent)


def check_unique_lang(c: Values, objs: list) -> None:
    if not c.shape.is_property:
        return
    for flag in objs:
        if not _is_true(flag):
            continue
        for f, vs in c.values.items():
            langs: dict[str, int] = defaultdict(int)
            for v in vs:
                if is_literal(v) and v.language:
                    langs[v.language.lower()] += 1
            for count in langs.values():
                if count > 1:
                    c.add(f, None, SH.UniqueLangConstraintComponent)


def check_equals(c: Values, objs: list) -> None:
    for prop in objs:
        other = c.ns.values(iri(prop))
        for f, vs in c.values.items():
            a, b = set(vs), set(other.get(f, []))
            for v in vs:
                if v not in b:
                    c.add(f, v, SH.EqualsConstraintComponent)
            for v in other.get(f, []):
                if v not in a:
                    c.add(f, v, SH.EqualsConstraintComponent)


def check_disjoint(c: Values, objs: list) -> None:
    for prop in objs:
        other = c.ns.values(iri(prop))
        for f, vs in c.values.items():
            b = set(other.get(f, []))
            for v in vs:
                if v in b:
                    c.add(f, v, SH.DisjointConstraintComponent)


def less_than(op: str, comp) -> Callable[[Values, list], None]:
    """sh:lessThan / sh:lessThanOrEquals: the SPARQL operator, evaluated by the store."""

    def check(c: Values, objs: list) -> None:
        e, shape = c.engine, c.shape
        for prop in objs:
            x, v, o = e.var(), e.var(), e.var()
            if shape.is_property:
                q = f"SELECT DISTINCT {x} {v} {o} WHERE {{ {c.ns.pattern(x)} {x} {shape.path_sparql} {v} . {x} {iri(prop)} {o} . FILTER(!COALESCE({v} {op} {o}, false)) }}"
                pairs = [(a, b) for a, b, _ in e.rows(q)]
            else:
                q = f"SELECT DISTINCT {x} {o} WHERE {{ {c.ns.pattern(x)} {x} {iri(prop)} {o} . FILTER(!COALESCE({x} {op} {o}, false)) }}"
                pairs = [(a, a) for a, _ in e.rows(q)]
            for f, v in pairs:
                c.add(f, v, comp)

    return check


def check_in(c: Values, objs: list) -> None:
    for lst in objs:
        allowed = {from_rdflib(x) for x in c.engine.shapes.list_of(lst)}
        c.per_value(lambda v, a=allowed: v in a, SH.InConstraintComponent)


def check_has_value(c: Values, objs: list) -> None:
    for hv in objs:
        t = from_rdflib(hv)
        c.per_focus(lambda vs, t=t: t in vs, SH.HasValueConstraintComponent)


def check_closed(c: Values, objs: list) -> None:
    if not any(_is_true(x) for x in objs):
        return
    e, sg = c.engine, c.engine.shapes
    allowed = set()
    for ps in c.shape.params.get(SH.property, []):
        path = sg.g.value(ps, SH.path)
        if isinstance(path, URIRef):
            allowed.add(path)
    for lst in c.shape.params.get(SH.ignoredProperties, []):
        allowed.update(x for x in sg.list_of(lst) if isinstance(x, URIRef))
    rev = defaultdict(list)
    for f, vs in c.values.items():
        for v in vs:
            rev[v].append(f)
    x, pv, o = e.var(), e.var(), e.var()
    filt = f"FILTER({pv} NOT IN ({', '.join(iri(a) for a in allowed)}))" if allowed else ""
    for f, pred, val in e.rows(f"SELECT DISTINCT {x} {pv} {o} WHERE {{ {c.vns.pattern(x)} {x} {pv} {o} . {filt} }}"):
        for focus in rev.get(f, ()):
            c.add(focus, val, SH.ClosedConstraintComponent, path=URIRef(pred.value))


def check_node(c: Values, objs: list) -> None:
    for sn in objs:
        bad = c.engine.failing(sn, c.vns)
        c.per_value(lambda v, b=bad: v not in b, SH.NodeConstraintComponent)


def check_not(c: Values, objs: list) -> None:
    for sn in objs:
        bad = c.engine.failing(sn, c.vns)
        c.per_value(lambda v, b=bad: v in b, SH.NotConstraintComponent)


def logical(conforms: Callable[[Any, list[set]], bool], comp) -> Callable[[Values, list], None]:
    """sh:and / sh:or / sh:xone over the failing sets of the listed shapes."""

    def check(c: Values, objs: list) -> None:
        for lst in objs:
            bads = [c.engine.failing(sn, c.vns) for sn in c.engine.shapes.list_of(lst)]
            c.per_value(lambda v, bs=bads: conforms(v, bs), comp)

    return check


def check_qualified(c: Values, objs: list) -> None:
    if not c.shape.is_property:
        return
    e, p = c.engine, c.shape.params
    qmin, qmax = p.get(SH.qualifiedMinCount), p.get(SH.qualifiedMaxCount)
    if not qmin and not qmax:
        return
    for q in objs:
        conform_bad = e.failing(q, c.vns)
        sib_bad: list[set] = []
        if any(_is_true(d) for d in p.get(SH.qualifiedValueShapesDisjoint, [])):
            siblings = set()
            for parent in e.shapes.parents(c.shape.node):
                for ps in e.shapes.g.objects(parent, SH.property):
                    if ps == c.shape.node:
                        continue
                    for sq in e.shapes.g.objects(ps, SH.qualifiedValueShape):
                        if sq != q:
                            siblings.add(sq)
            sib_bad = [e.failing(s, c.vns) for s in siblings]
        for f, vs in c.values.items():
            n = sum(1 for v in vs if v not in conform_bad and all(v in b for b in sib_bad))
            if qmin and n < int(qmin[0]):
                c.add(f, None, SH.QualifiedMinCountConstraintComponent)
            if qmax and n > int(qmax[0]):
                c.add(f, None, SH.QualifiedMaxCountConstraintComponent)


def check_property(c: Values, objs: list) -> None:
    for ps in objs:
        nested = c.engine.evaluate(c.engine.shapes.shape(ps), c.vns)
        if c.shape.is_property and nested:
            # one result per (focus node, value node) pair, as for any other constraint
            mult: dict = defaultdict(int)
            for vs in c.values.values():
                for v in vs:
                    mult[v] += 1
            nested = [r for r in nested for _ in range(mult.get(r.focus, 1))]
        c.out.extend(nested)


CHECKS: list[tuple[URIRef, Callable[[Values, list], None]]] = [
    (SH["class"], check_class),
    (SH.datatype, check_datatype),
    (SH.nodeKind, check_node_kind),
    (SH.minCount, check_min_count),
    (SH.maxCount, check_max_count),
    *[(pred, comparison(pred)) for pred in _COMPARE],
    (SH.minLength, check_min_length),
    (SH.maxLength, check_max_length),
    (SH.pattern, check_pattern),
    (SH.languageIn, check_language_in),
    (SH.uniqueLang, check_unique_lang),
    (SH.equals, check_equals),
    (SH.disjoint, check_disjoint),
    (SH.lessThan, less_than("<", SH.LessThanConstraintComponent)),
    (SH.lessThanOrEquals, less_than("<=", SH.LessThanOrEqualsConstraintComponent)),
    (SH["in"], check_in),
    (SH.hasValue, check_has_value),
    (SH.closed, check_closed),
    (SH.node, check_node),
    (SH["not"], check_not),
    (SH["and"], logical(lambda v, bs: not any(v in b for b in bs), SH.AndConstraintComponent)),
    (SH["or"], logical(lambda v, bs: any(v not in b for b in bs), SH.OrConstraintComponent)),
    (SH.xone, logical(lambda v, bs: sum(1 for b in bs if v not in b) == 1, SH.XoneConstraintComponent)),
    (SH.qualifiedValueShape, check_qualified),
    (SH.property, check_property),
]


def check_all(engine: "Engine", shape: Shape, ns: NodeSet) -> list[Result]:
    """Every constraint component of ``shape`` on the focus nodes ``ns``, in Python over fetched values."""
    c = Values.of(engine, shape, ns)
    for pred, check in CHECKS:
        objs = shape.params.get(pred)
        if objs:
            check(c, objs)
    return c.out
