"""A union default graph with set semantics on an engine that merges default graphs as a bag.

pyoxigraph 0.5 evaluates a list of default graphs (``Store.query(q, default_graph=[g1, g2])``,
and ``use_default_graph_as_union=True``) as their *bag* union: a triple held by two graphs matches a
triple pattern twice, so ``COUNT(*)`` doubles. A project in ``union`` mode needs the *set* union
(each triple once, like Jena Fuseki's ``unionDefaultGraph``). :func:`set_default_graph` rewrites a
query or an update so that, evaluated over the bag, it gives exactly the answers of the set.

How: the triple patterns evaluated against the default graph (not inside ``GRAPH`` or
``SERVICE``) are put inside ``{ SELECT DISTINCT * WHERE { ... } }``. When every element of a group
is a set over a set graph (triples, FILTER, BIND, OPTIONAL / plain groups made of such elements,
MINUS, a VALUES block without a repeated row), the whole group goes into one wrapper, so the engine
still plans its joins and OPTIONALs together (a selective lookup stays a lookup). Otherwise (UNION,
GRAPH, SERVICE, sub-SELECT, a VALUES with several rows) the group is split: runs of joined elements
are wrapped; OPTIONAL, MINUS and BIND act on everything before them in their group, so they join a
run only while it starts the group; FILTERs stay outside the wrappers, in their group. The right
side of an OPTIONAL that carries FILTERs keeps them outside its wrapper (they may read the left side).

Why it is exact. Over the bag, a wrapped pattern has the solutions it has over the set, each at
least once. Over the set, such a pattern has each solution exactly once when all its existentials
are variables (a mapping of the variables of triples, joins, left joins, filters and binds fixes
how it was derived), so DISTINCT restores the set answer. The existentials are made variables
first (fresh names ``?__kgt_N``, unused by the query): blank nodes, ``[]``, ``[ ... ]`` and lists; the
middle node of a sequence path (the engine's parser expands ``p/q`` into two triple patterns joined
on a hidden node, and ``^p`` into a swapped pattern; so do we); the predicate of a negated property
set going one way (the engine counts one row per matching triple: ``?s !(:a|:b) ?o`` becomes
``?s ?__kgt_1 ?o FILTER(?__kgt_1 NOT IN (:a, :b))``). Alternatives, ``*``, ``+``, ``?`` and two-way
negated sets are answered by the engine as sets of (subject, object) pairs, so they stay paths.
When a wrapper holds helpers, the query's own variables are projected again
(``SELECT ?x ?y WHERE { SELECT DISTINCT * ... }``), so helpers never leave it; a wrapper without
any variable of the query projects one unbound helper instead (a ``__kgt`` column, always empty).

Where duplicates cannot reach the answer nothing is wrapped (cheaper to run): the group of an
EXISTS / NOT EXISTS and the right side of MINUS (only existence counts); ASK, DESCRIBE, a
SELECT DISTINCT, a grouped SELECT whose aggregates ignore duplicates (MIN, MAX, any ``DISTINCT``
aggregate), CONSTRUCT and DELETE/INSERT whose template makes no blank node, unless a LIMIT/OFFSET
or a function returning a fresh value (BNODE, RAND, UUID, STRUUID) makes counts visible; DELETE
WHERE (deleting twice is deleting once). Sub-SELECTs decide again for their own WHERE clause.

Limits: a blank-node label used on both sides of a split (SPARQL forbids one label in two basic
graph patterns) is no longer one node; the column order of ``SELECT *`` may change; the results of
SAMPLE, GROUP_CONCAT and LIMIT without ORDER BY are whatever the engine picks, as before.

>>> print(set_default_graph('SELECT (COUNT(*) AS ?n) WHERE { ?s <http://e/p> ?o }'))
SELECT (COUNT(*) AS ?n) WHERE { { SELECT DISTINCT * WHERE { ?s <http://e/p> ?o } } }
>>> print(set_default_graph('SELECT DISTINCT ?s WHERE { ?s <http://e/p> ?o }'))
SELECT DISTINCT ?s WHERE { ?s <http://e/p> ?o }
>>> print(set_default_graph('PREFIX e: <http://e/> SELECT * { [] e:p/e:q ?o FILTER(?o > 1) GRAPH ?g { ?o e:r ?x } }'))
PREFIX e: <http://e/> SELECT * { { SELECT ?o WHERE { SELECT DISTINCT * WHERE { ?__kgt_1 e:p ?__kgt_2 . ?__kgt_2 e:q ?o } } } FILTER(?o > 1) GRAPH ?g { ?o e:r ?x } }
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from kg_twin.sparql.lexer import Token
from kg_twin.sparql.union_triples import Run, TokenView, tokens

_AGGREGATES = frozenset({"COUNT", "SUM", "AVG", "MIN", "MAX", "SAMPLE", "GROUP_CONCAT"})
_DUPLICATE_BLIND = frozenset({"MIN", "MAX"})  # the same answer over a bag and over its set
_FRESH_VALUES = frozenset({"BNODE", "RAND", "UUID", "STRUUID"})  # one new value per solution
_IN_TRIPLES = frozenset({"A", "TRUE", "FALSE"})  # the only bare words a triples block may hold
_EXISTENTIAL = frozenset({"[", "(", "/", "!"})  # may hide a node the engine counts: parse the block

EXACT = True  # every solution's multiplicity matters: wrap
SET = False  # only which solutions exist matters: leave alone


@lru_cache(maxsize=1024)  # the same named queries come back again and again
def set_default_graph(text: str) -> str:
    """Rewrite a SPARQL 1.1 query or update so that a bag-merged default graph acts as a set.

    Queries (SELECT, ASK, CONSTRUCT, DESCRIBE) and updates (the WHERE clause of DELETE/INSERT) are
    both accepted; prefixed names, comments and layout are kept. The text comes back unchanged
    when nothing needs a rewrite. Raises :class:`~kg_twin.errors.InputError` (``SPARQL_SYNTAX``)
    with the line and column when the text is not SPARQL the rewrite can follow. Not a validator:
    some errors (e.g. a triple without its object) pass through to the engine, which rejects the
    rewritten text as it would the original (columns then differ: report the original's error).

    >>> set_default_graph('ASK { ?s ?p ?o }')
    'ASK { ?s ?p ?o }'
    >>> print(set_default_graph('INSERT { ?s <http://e/n> [] } WHERE { ?s a <http://e/C> }'))
    INSERT { ?s <http://e/n> [] } WHERE { { SELECT DISTINCT * WHERE { ?s a <http://e/C> } } }
    >>> set_default_graph('SELECT * { ?s ?p ?o ) }')
    Traceback (most recent call last):
    ...
    kg_twin.errors.InputError: [SPARQL_SYNTAX] unbalanced brackets, found ')' (line 1, column 21)
      hint: check the query's syntax near this position; it must be SPARQL 1.1
    """
    toks = tokens(text)
    rw = _Rewriter(text, toks)
    rw.document()
    if not rw.edits:
        return text
    out: list[str] = []
    pos = 0
    for start, end, new in sorted(rw.edits, key=lambda e: (e[0], e[1])):
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return "".join(out)


@dataclass(frozen=True)
class _El:
    """An element of a group: kind (TRIPLES, FILTER, OPTIONAL, GROUP, UNION, ...), tokens a..b, its groups' '{'."""

    kind: str
    a: int
    b: int
    groups: tuple[int, ...]



class _Rewriter(TokenView):
    def __init__(self, text: str, toks: list[Token]) -> None:
        super().__init__(text, toks)
        self.fresh_values = not _FRESH_VALUES.isdisjoint(self.word)
        self.cache: dict[int, list[_El]] = {}  # elements of a group body, by its first token

    # ------------------------------------------------------------------ documents
    def prologue(self, k: int) -> int:
        while True:
            if self.kw(k, "BASE") and k + 1 < self.n and self.toks[k + 1].kind == "IRI":
                k += 2
            elif self.kw(k, "PREFIX") and k + 2 < self.n and self.toks[k + 1].kind == "PNAME":
                k += 3
            else:
                return k

    def document(self) -> None:
        k = self.prologue(0)
        if self.kw(k, "SELECT"):
            distinct = self.kw(k + 1, "DISTINCT")
            head = k + (2 if self.kw(k + 1, "DISTINCT", "REDUCED") else 1)
            self.solution(head, self.where_at(head, self.n), self.n, EXACT, distinct)
        elif self.kw(k, "ASK", "DESCRIBE"):
            g = self.where_at(k + 1, self.n, required=self.kw(k, "ASK"))
            if g < self.n:
                self.solution(k + 1, g, self.n, SET, False)
        elif self.kw(k, "CONSTRUCT"):
            self.construct(k + 1)
        elif k < self.n:
            self.update(k)

    def where_at(self, k: int, end: int, required: bool = True) -> int:
        """Index of the '{' opening the WHERE clause after a query head starting at ``k``."""
        while k < end and not self.punct(k, "{"):
            k = self.match[k] + 1 if self.punct(k, "(") else k + 1
        if k >= end and required:
            raise self.error(k, "expected a WHERE clause '{'")
        return k

    def construct(self, k: int) -> None:
        if self.punct(k, "{"):  # CONSTRUCT { template } ... WHERE { ... }
            t_end = self.match[k]
            ctx = EXACT if self.makes_bnodes(k, t_end) else SET
            self.solution(t_end + 1, self.where_at(t_end + 1, self.n), self.n, ctx, False)
            return
        g = self.where_at(k, self.n)  # CONSTRUCT WHERE { triples }: the template is the pattern
        g_end = self.match[g]
        ctx = EXACT if self.makes_bnodes(g, g_end) else SET
        if self.mode(((k, g), (g_end + 1, self.n)), ctx, False) == EXACT:
            where = g - 1 if self.kw(g - 1, "WHERE") else g
            self.edits.append((self.toks[where].start, self.toks[where].start, self.span(g, g_end) + " "))
            self.group(g, EXACT)

    def makes_bnodes(self, a: int, b: int) -> bool:
        """Does the template between tokens a and b create blank nodes (labels, [], lists)?"""
        for k in range(a + 1, b):
            t = self.toks[k]
            if t.kind == "BNODE" or self.punct(k, "[") or (self.punct(k, "(") and not self.punct(k + 1, ")")):
                return True
        return False

    def update(self, k: int) -> None:
        while k < self.n:
            k = self.prologue(k)
            if k >= self.n:
                return
            if self.punct(k, ";"):
                k += 1
                continue
            if self.kw(k, "WITH"):
                k += 2
            if self.kw(k, "INSERT", "DELETE") and self.kw(k + 1, "DATA", "WHERE"):
                k = self.closing(k + 2) + 1  # data, or DELETE WHERE: deleting twice is deleting once
            elif self.kw(k, "INSERT", "DELETE"):
                ctx = SET
                while self.kw(k, "INSERT", "DELETE"):
                    t_end = self.closing(k + 1)
                    if self.kw(k, "INSERT") and self.makes_bnodes(k + 1, t_end):
                        ctx = EXACT
                    k = t_end + 1
                while self.kw(k, "USING"):
                    k += 3 if self.kw(k + 1, "NAMED") else 2
                if self.kw(k, "WHERE"):
                    k += 1
                k = self.group(k, EXACT if ctx or self.fresh_values else SET)
            else:  # LOAD, CLEAR, DROP, CREATE, ADD, MOVE, COPY: no pattern
                while k < self.n and not self.punct(k, ";"):
                    k += 1

    # ------------------------------------------------------------------ SELECT-like
    def mode(self, ranges: tuple[tuple[int, int], ...], ctx: bool, distinct: bool) -> bool:
        """Mode of a WHERE clause, from its query's head and solution modifiers (``ranges``)."""
        counts = self.fresh_values
        grouped = sliced = False
        for a, b in ranges:
            k = a
            while k < b:
                if self.sym[k] == "{":  # EXISTS groups, VALUES data
                    k = self.match[k] + 1
                    continue
                u = self.word[k]
                if u:
                    if u in _AGGREGATES and self.punct(k + 1, "("):
                        grouped = True
                        if u not in _DUPLICATE_BLIND and not self.kw(k + 2, "DISTINCT"):
                            counts = True
                    elif u in ("GROUP", "HAVING"):
                        grouped = True
                    elif u in ("LIMIT", "OFFSET"):
                        sliced = True
                k += 1
        if counts or (not (distinct or grouped) and (ctx or sliced)):
            return EXACT
        return SET

    def solution(self, head: int, g: int, end: int, ctx: bool, distinct: bool) -> None:
        """A query (or sub-SELECT) whose head is [head, g), WHERE group at g, modifiers up to end."""
        ranges = ((head, g), (self.match[g] + 1, end))
        mode = self.mode(ranges, ctx, distinct)
        for a, b in ranges:
            self.expressions(a, b)
        self.group(g, mode)

    def expressions(self, a: int, b: int) -> None:
        """Rewrite the EXISTS groups of the expressions in [a, b)."""
        k = a
        while k < b:
            if self.kw(k, "EXISTS") and self.punct(k + 1, "{"):
                k = self.group(k + 1, SET)
            elif self.punct(k, "{"):
                k = self.match[k] + 1
            else:
                k += 1

    # ------------------------------------------------------------------ groups
    def group(self, k: int, mode: bool) -> int:
        end = self.closing(k)
        if self.kw(k + 1, "SELECT"):
            s = k + 2
            distinct = self.kw(s, "DISTINCT")
            if self.kw(s, "DISTINCT", "REDUCED"):
                s += 1
            self.solution(s, self.where_at(s, end), end, mode, distinct)
        else:
            self.body(k + 1, end, mode)
        return end + 1

    def elements(self, k: int, end: int) -> list[_El]:
        """The elements of a group's body [k, end): triples blocks and graph patterns."""
        if k in self.cache:
            return self.cache[k]
        out: list[_El] = []
        start = k
        while k < end:
            sym, u = self.sym[k], self.word[k]
            if sym == "{":
                groups, e = [k], self.match[k]
                while self.kw(e + 1, "UNION"):
                    e = self.closing(e + 2)
                    groups.append(self.match[e])
                out.append(_El("UNION" if len(groups) > 1 else "GROUP", k, e, tuple(groups)))
            elif sym == ".":
                k += 1
                continue
            elif u and u not in _IN_TRIPLES:
                groups = []
                if u == "FILTER":
                    e = self.constraint_end(k + 1)
                elif u in ("OPTIONAL", "MINUS"):
                    e = self.closing(k + 1)
                    groups.append(k + 1)
                elif u == "GRAPH":
                    e = self.closing(k + 2)
                elif u == "SERVICE":
                    e = self.closing(k + 3 if self.kw(k + 1, "SILENT") else k + 2)
                elif u == "BIND":
                    e = self.closing(k + 1, "(")
                elif u == "VALUES":
                    e = self.closing(self.match[k + 1] + 1 if self.punct(k + 1, "(") else k + 2)
                else:
                    raise self.error(k, "expected a triple pattern or a graph pattern keyword")
                out.append(_El(u, k, e, tuple(groups)))
            else:
                e = self.skip_triples(k, end) - 1
                out.append(_El("TRIPLES", k, e, ()))
            k = e + 1
        self.cache[start] = out
        return out

    def inside(self, g: int) -> list[_El]:
        return self.elements(g + 1, self.match[g])

    def constraint_end(self, k: int) -> int:
        """Last token of a FILTER's constraint starting at k."""
        if self.kw(k, "NOT") and self.kw(k + 1, "EXISTS"):
            return self.closing(k + 2)
        if self.kw(k, "EXISTS"):
            return self.closing(k + 1)
        return self.closing(k if self.punct(k, "(") else k + 1, "(")

    def skip_triples(self, k: int, end: int) -> int:
        start = k
        while k < end:
            sym, u = self.sym[k], self.word[k]
            if sym == "{" or sym == "}" or (u and u not in _IN_TRIPLES):
                break
            k = self.match[k] + 1 if sym == "(" or sym == "[" else k + 1
        if k == start:
            raise self.error(k, "expected a triple pattern")
        return k

    def wrappable(self, el: _El) -> bool:
        """Can the element sit inside a ``SELECT DISTINCT *`` (is it a set over a set graph)?"""
        if el.kind in ("TRIPLES", "FILTER", "MINUS"):
            return True
        if el.kind == "BIND":
            return not self.fresh_values
        if el.kind == "VALUES":
            return self.distinct_rows(el)
        if el.kind in ("OPTIONAL", "GROUP"):
            g = el.groups[0]
            return not self.kw(g + 1, "SELECT") and all(self.wrappable(x) for x in self.inside(g))
        return False  # UNION (the same row from two branches), GRAPH, SERVICE, sub-SELECT

    def distinct_rows(self, el: _El) -> bool:
        """Does a VALUES block hold no row twice (one row, or absolute IRIs / UNDEF only, rows unequal)?"""
        many = self.punct(el.a + 1, "(")
        data = self.match[el.a + 1] + 1 if many else el.a + 2
        cells = [t for t in self.toks[data + 1 : el.b] if t.kind != "PUNCT" or t.text in ("(", ")")]
        if many:
            rows = " ".join(t.text for t in cells).split(")")[:-1]
        else:
            rows = [t.text for t in cells]
            inner = self.toks[data + 1 : el.b]
            if len(inner) <= 1 or (len(inner) == 2 and inner[1].kind == "LANG") or (len(inner) == 3 and inner[1].text == "^^"):
                return True  # at most one term (a literal with its language tag or datatype)
        if len(rows) <= 1:
            return True
        plain = all(
            t.text in ("(", ")") or t.upper == "UNDEF" or (t.kind == "IRI" and ":" in t.text.split("/")[0]) for t in cells
        )
        return plain and len(set(rows)) == len(rows)

    def has_triples(self, els: list[_El]) -> bool:
        return any(
            el.kind == "TRIPLES" or (el.kind in ("OPTIONAL", "GROUP") and self.has_triples(self.inside(el.groups[0])))
            for el in els
        )

    def body(self, k: int, end: int, mode: bool, optional: bool = False) -> None:
        """A group's body in ``mode``; ``optional``: the right side of OPTIONAL (its FILTERs see the left side)."""
        els = self.elements(k, end)
        if mode == SET:
            for el in els:
                self.standalone(el, SET)
            return
        if all(self.wrappable(el) for el in els) and not (optional and any(el.kind == "FILTER" for el in els)):
            self.segment(els)
            return
        # Split: runs of joined elements are wrapped; OPTIONAL, MINUS and BIND act on all that
        # precedes them in the group, so they join a run only while it is the group's prefix.
        run: list[_El] = []
        prefix = True
        for el in els:
            joins = el.kind in ("TRIPLES", "GROUP", "VALUES") or (prefix and run and el.kind in ("OPTIONAL", "MINUS", "BIND"))
            if joins and self.wrappable(el):
                run.append(el)
                continue
            self.segment(run)
            run, prefix = [], False
            self.standalone(el, EXACT)
        self.segment(run)

    def segment(self, els: list[_El]) -> None:
        """Wrap consecutive elements in ``{ SELECT DISTINCT * WHERE { ... } }``."""
        if not self.has_triples(els):
            for el in els:
                self.standalone(el, EXACT)
            return
        acc = Run()
        for el in els:
            self.inner(el, acc)
        if acc.helpers:
            keep = " ".join("?" + v for v in acc.variables) or self.fresh()
            head, tail = f"{{ SELECT {keep} WHERE {{ SELECT DISTINCT * WHERE {{ ", " } } }"
        else:
            head, tail = "{ SELECT DISTINCT * WHERE { ", " } }"
        start, end = self.toks[els[0].a].start, self.toks[els[-1].b].end
        self.edits.append((start, start, head))
        self.edits.append((end, end, tail))

    def standalone(self, el: _El, mode: bool) -> None:
        """An element left outside any wrapper (its own groups are rewritten in ``mode``)."""
        if el.kind in ("FILTER", "BIND"):
            self.expressions(el.a + 1, el.b + 1)
        elif el.kind == "OPTIONAL":
            g = el.groups[0]
            if mode == EXACT and not self.kw(g + 1, "SELECT"):
                self.body(g + 1, self.match[g], EXACT, optional=True)
            else:
                self.group(g, mode)
        elif el.kind == "MINUS":
            self.group(el.groups[0], SET)
        elif el.kind in ("GROUP", "UNION"):
            for g in el.groups:
                self.group(g, mode)
        elif el.kind == "TRIPLES" and mode == EXACT:
            self.segment([el])
        # GRAPH and SERVICE: a named graph is a set; a remote endpoint has its own dataset

    def inner(self, el: _El, acc: Run) -> None:
        """An element inside a wrapper: expose its existentials, note its variables."""
        if el.kind == "TRIPLES":
            span = range(el.a, el.b + 1)
            if not any(self.sym[k] in _EXISTENTIAL or self.toks[k].kind == "BNODE" for k in span):
                for k in span:  # no blank node, list or sequence path: the text stays as it is
                    if self.toks[k].kind == "VAR":
                        acc.variables.setdefault(self.toks[k].text[1:])
                return
            block = Run(labels=acc.labels, variables=acc.variables)
            if self.triples(el.a, el.b + 1, block) != el.b + 1:
                raise self.error(el.b + 1, "expected the end of the triple patterns")
            if block.helpers:
                acc.helpers = True
                text = " . ".join(block.triples) + "".join(" " + c for c in block.conds)
                self.edits.append((self.toks[el.a].start, self.toks[el.b].end, text))
        elif el.kind in ("FILTER", "BIND"):
            self.expressions(el.a + 1, el.b + 1)
            if el.kind == "BIND":
                acc.variables.setdefault(self.toks[el.b - 1].text[1:])
        elif el.kind in ("OPTIONAL", "GROUP"):
            for x in self.inside(el.groups[0]):
                self.inner(x, acc)
        elif el.kind == "MINUS":
            self.group(el.groups[0], SET)
        elif el.kind == "VALUES":
            for t in self.toks[el.a + 1 : el.b]:
                if t.kind == "VAR":
                    acc.variables.setdefault(t.text[1:])
                elif t.text == "{":
                    break
