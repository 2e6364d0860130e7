"""Value-local SHACL constraints compiled to SPARQL boolean expressions (the engine's fast path)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import rdflib

from kg_twin.store.view import RDF_LANGSTRING, XSD_STRING, ShaclQueryError, from_rdflib, is_bnode, sparql_term
from kg_twin.validation.model import SH, Shape
from kg_twin.validation.shapes_graph import iri
from kg_twin.validation.xsd import _INT_RANGES, _LEXICAL, XSD_NS

if TYPE_CHECKING:
    from kg_twin.validation.engine import Engine

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

_LOCAL = {
    SH.nodeKind, SH.datatype, SH["class"], SH["in"], SH.pattern, SH.flags, SH.minLength, SH.maxLength,
    SH.minExclusive, SH.minInclusive, SH.maxExclusive, SH.maxInclusive, SH.languageIn, SH.node,
    SH["not"], SH["and"], SH["or"], SH.xone, SH.hasValue, SH.property,
}
_RX_SPARQL = {k: rx.pattern for k, rx in _LEXICAL.items() if k != "duration"}


def _sparql_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


_LEXICAL_PREDS = {SH.datatype, SH.pattern, SH.minLength, SH.maxLength, SH["in"], SH.hasValue}


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
        if pred in _LEXICAL_PREDS and e.view.originals:
            # the store holds some literals in another form than written ("300"^^xsd:byte as the
            # integer 300): checks on lexical forms and datatypes run in Python on the written form
            raise _NotCompilable
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
