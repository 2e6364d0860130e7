"""SHACL-SPARQL query text: the syntax rules on pre-bound variables, and pre-binding itself.

SHACL (5.2.1, appendix "Pre-binding of Variables") pre-binds ``$this``, ``$shapesGraph``,
``$currentShape``, ``$value`` and component parameters by *substitution*: every occurrence of the
variable in the query, in inner groups and FILTERs too, stands for the value (``bound($this)`` is
true). A store's "initial bindings" join the values in at the top instead, which is not the same
(``{ FILTER($this = ex:X) }`` sees an unbound ``$this``), so the substitution is done here on the
query text: IRIs and literals are written as constants; a blank node, which a query cannot name,
becomes a call of a per-query function returning it (in expressions) or a variable that such a
call constrains (in triple patterns). Projections keep their variables.

The same pass enforces the spec's restrictions: no ``MINUS``, ``VALUES`` or ``SERVICE``, no
``AS $v`` for a pre-bound ``$v``, and subqueries that return every pre-bound variable (except
``$shapesGraph`` and ``$currentShape``). A query breaking them is refused, never run.

>>> from rdflib import URIRef
>>> text, fns = prebind("SELECT $this WHERE { { FILTER ($this = <http://x/a>) } FILTER bound($this) }", {"this": from_rdflib(URIRef("http://x/a"))})
>>> text
'SELECT $this WHERE { { FILTER (<http://x/a> = <http://x/a>) } FILTER (true) }'
>>> try:
...     check("SELECT $this WHERE { $this ?p ?o . MINUS { $this ?p 1 } }", {"this"})
... except UnsupportedSparql as e:
...     print(e.code, e.message)
SHACL_SPARQL_UNSUPPORTED_SYNTAX the query uses MINUS, which SHACL-SPARQL does not allow (SHACL 5.2.1)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from rdflib import URIRef

from kg_twin.errors import InputError
from kg_twin.store.view import from_rdflib, is_bnode

FN_NS = "urn:x-kg-twin:prebound:"
OPTIONAL_PREBOUND = {"shapesGraph", "currentShape"}


class UnsupportedSparql(InputError):
    """A SHACL-SPARQL query breaks the spec's rules on pre-bound variables."""


@dataclass
class Tok:
    kind: str  # ws comment str iri var word punct
    text: str


_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<comment>\#[^\n]*)
    |(?P<str>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    |(?P<iri><[^<>"{}|^`\\\s]*>)
    |(?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
    |(?P<word>[A-Za-z0-9_\u00C0-\uFFFF][A-Za-z0-9_\-.:\u00B7\u00C0-\uFFFF%\\]*|:[A-Za-z0-9_\-.:\u00C0-\uFFFF]*)
    |(?P<punct>.)""",
    re.VERBOSE | re.DOTALL,
)


def tokenize(text: str) -> list[Tok]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "punct"
        out.append(Tok(kind, m.group()))
    return out


def _name(t: Tok) -> str:
    return t.text[1:]


def _kw(t: Tok, *words: str) -> bool:
    return t.kind == "word" and t.text.upper() in words


def _next(toks: list[Tok], i: int) -> int:
    """Index of the next non-space, non-comment token after ``i`` (len(toks) at the end)."""
    i += 1
    while i < len(toks) and toks[i].kind in ("ws", "comment"):
        i += 1
    return i


def _match(toks: list[Tok], i: int) -> int:
    """Index of the bracket closing the one at ``i``."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    stack = []
    for j in range(i, len(toks)):
        t = toks[j]
        if t.kind != "punct":
            continue
        if t.text in pairs:
            stack.append(pairs[t.text])
        elif stack and t.text == stack[-1]:
            stack.pop()
            if not stack:
                return j
    return len(toks) - 1


def _subqueries(toks: list[Tok]) -> list[tuple[int, int, int]]:
    """(SELECT index, body open brace, body close brace) of every nested SELECT."""
    out = []
    depth = 0
    for i, t in enumerate(toks):
        if t.kind == "punct" and t.text == "{":
            depth += 1
        elif t.kind == "punct" and t.text == "}":
            depth -= 1
        elif depth > 0 and _kw(t, "SELECT"):
            j = i
            paren = 0
            while j < len(toks):
                tj = toks[j]
                if tj.kind == "punct" and tj.text == "(":
                    paren += 1
                elif tj.kind == "punct" and tj.text == ")":
                    paren -= 1
                elif paren == 0 and tj.kind == "punct" and tj.text == "{":
                    break
                j += 1
            out.append((i, j, _match(toks, j)))
    return out


def _projection(toks: list[Tok], start: int, body: int) -> tuple[set[str], bool]:
    """Variables a SELECT returns (and whether it is ``SELECT *``)."""
    names: set[str] = set()
    star = False
    paren = 0
    for j in range(start + 1, body):
        t = toks[j]
        if t.kind == "punct" and t.text == "(":
            paren += 1
        elif t.kind == "punct" and t.text == ")":
            paren -= 1
        elif t.kind == "punct" and t.text == "*" and paren == 0:
            star = True
        elif t.kind == "var" and paren == 0:
            names.add(_name(t))
        elif t.kind == "word" and t.text.upper() == "AS":
            k = _next(toks, j)
            if k < len(toks) and toks[k].kind == "var":
                names.add(_name(toks[k]))
    return names, star


def _in_scope(toks: list[Tok], lo: int, hi: int) -> set[str]:
    """Variables a group binds: those in triple patterns (not inside expressions) and BIND targets."""
    names: set[str] = set()
    stack: list[str] = []
    for j in range(lo, hi + 1):
        t = toks[j]
        if t.kind == "punct" and t.text in "{([":
            stack.append(t.text)
        elif t.kind == "punct" and t.text in "})]":
            if stack:
                stack.pop()
        elif t.kind == "var" and (not stack or stack[-1] != "("):
            names.add(_name(t))
        elif _kw(t, "AS"):
            k = _next(toks, j)
            if k < len(toks) and toks[k].kind == "var":
                names.add(_name(toks[k]))
    return names


def check(text: str, prebound: set[str]) -> None:
    """Refuse a query that SHACL-SPARQL does not allow with these pre-bound variables."""
    toks = tokenize(text)
    for i, t in enumerate(toks):
        for kw in ("MINUS", "VALUES", "SERVICE"):
            if _kw(t, kw):
                raise UnsupportedSparql(
                    "SHACL_SPARQL_UNSUPPORTED_SYNTAX",
                    f"the query uses {kw}, which SHACL-SPARQL does not allow (SHACL 5.2.1)",
                    hint=f"rewrite the sh:select/sh:ask query without {kw}" + (" (FILTER NOT EXISTS instead)" if kw == "MINUS" else ""),
                )
        if _kw(t, "AS"):
            k = _next(toks, i)
            if k < len(toks) and toks[k].kind == "var" and _name(toks[k]) in prebound:
                raise UnsupportedSparql(
                    "SHACL_SPARQL_UNSUPPORTED_SYNTAX",
                    f"the query assigns the pre-bound variable {toks[k].text} with AS, which SHACL-SPARQL does not allow (SHACL 5.2.1)",
                    hint="bind the value to another variable",
                )
    required = prebound - OPTIONAL_PREBOUND
    for sel, lo, hi in _subqueries(toks):
        names, star = _projection(toks, sel, lo)
        if star:
            names |= _in_scope(toks, lo, hi)
        missing = sorted(required - names)
        if missing:
            raise UnsupportedSparql(
                "SHACL_SPARQL_UNSUPPORTED_SYNTAX",
                f"a subquery does not return the pre-bound variable(s) {', '.join('$' + m for m in missing)} (SHACL 5.2.1 requires it)",
                hint="project them in the subquery's SELECT",
            )


def _const(term: Any) -> str:
    return str(term)


def prebind(text: str, bindings: dict[str, Any], *, path: str | None = None) -> tuple[str, dict[Any, Callable[[], Any]]]:
    """The query with ``bindings`` substituted (and ``$PATH`` replaced by ``path``), plus the custom
    functions it now calls (for blank-node values)."""
    toks = tokenize(text)
    out: list[str] = []
    fns: dict[Any, Callable[[], Any]] = {}
    inserts: dict[int, list[str]] = {}  # index in ``out`` of a group's "{" -> filters to add after it
    stack: list[tuple[str, int]] = []  # (bracket, index in out)
    proj_depth: int | None = None  # bracket depth of the SELECT whose projection we are in
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "punct" and t.text in "{([":
            if t.text == "{" and proj_depth is not None and len(stack) == proj_depth:
                proj_depth = None
            stack.append((t.text, len(out)))
            out.append(t.text)
        elif t.kind == "punct" and t.text in "})]":
            if stack:
                stack.pop()
            out.append(t.text)
        elif _kw(t, "SELECT"):
            proj_depth = len(stack)
            out.append(t.text)
        elif _kw(t, "WHERE") and proj_depth is not None and len(stack) == proj_depth:
            proj_depth = None
            out.append(t.text)
        elif _kw(t, "BOUND"):
            # bound($v) for a pre-bound $v is true
            a = _next(toks, i)
            b = _next(toks, a) if a < len(toks) else a
            c = _next(toks, b) if b < len(toks) else b
            if a < len(toks) and toks[a].text == "(" and b < len(toks) and toks[b].kind == "var" and _name(toks[b]) in bindings and c < len(toks) and toks[c].text == ")":
                out.append("(true)")
                i = c + 1
                continue
            out.append(t.text)
        elif t.kind == "var" and _name(t) == "PATH" and path is not None and (not stack or stack[-1][0] != "("):
            out.append(path)
        elif t.kind == "var" and _name(t) in bindings:
            name = _name(t)
            term = bindings[name]
            in_projection = proj_depth is not None and len(stack) == proj_depth
            if in_projection or not stack:
                out.append(t.text)  # SELECT $this, GROUP BY $this: the variable stays
            elif is_bnode(term):
                fn = from_rdflib(URIRef(FN_NS + name))
                fns[fn] = lambda term=term: term
                if stack[-1][0] == "(":
                    out.append(f"<{fn.value}>()")
                else:
                    var = f"?__kgt_{name}"
                    group = next((pos for br, pos in reversed(stack) if br == "{"), None)
                    if group is not None:
                        inserts.setdefault(group, [])
                        flt = f" FILTER(sameTerm({var}, <{fn.value}>())) "
                        if flt not in inserts[group]:
                            inserts[group].append(flt)
                    out.append(var)
            else:
                out.append(_const(term))
        else:
            out.append(t.text)
        i += 1
    for pos in sorted(inserts, reverse=True):
        out[pos] = out[pos] + "".join(inserts[pos])
    return "".join(out), fns


def mentions(text: str, name: str) -> bool:
    """Does the query use the variable ``?name`` / ``$name``?"""
    return any(t.kind == "var" and _name(t) == name for t in tokenize(text))

