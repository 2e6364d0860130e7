"""A union default graph with set semantics on an engine that merges default graphs as a bag.

pyoxigraph 0.5 evaluates a list of default graphs (``Store.query(q, default_graph=[g1, g2])``,
and ``use_default_graph_as_union=True``) as their *bag* union: a triple held by two graphs matches a
triple pattern twice, so ``COUNT(*)`` doubles. A project in ``union`` mode needs the *set* union
(each triple once, like Jena Fuseki's ``unionDefaultGraph``). :func:`set_default_graph` rewrites a
query or an update so that, evaluated over the bag, it gives exactly the answers of the set.

How: every maximal block of triple patterns evaluated against the default graph (not inside
``GRAPH`` or ``SERVICE``) becomes ``{ SELECT DISTINCT * WHERE { block } }``. A FILTER between
triples does not end a block (it stays in its group, where it applies to the whole group anyway).

Why it is exact. Over the bag, a block's solutions are those over the set, each at least once.
Over the set, a block whose existentials are all variables has each solution exactly once (a
mapping of all its variables fixes the matched triples), so DISTINCT restores the set answer.
The existentials are made variables first (fresh names ``?__kgt_…``, unused by the query): blank
nodes, ``[]``, ``[ … ]`` and lists; the middle node of a sequence path (the engine's parser expands
``p/q`` into two triple patterns joined on a hidden node, and ``^p`` into a swapped pattern, and so do
we); the predicate of a negated property set that goes one way (the engine counts one row per
matching triple: ``?s !(:a|:b) ?o`` becomes ``?s ?__kgt_p1 ?o FILTER(?__kgt_p1 NOT IN (:a, :b))``).
Alternatives, ``*``, ``+``, ``?`` and two-way negated sets are evaluated by the engine as sets of
(subject, object) pairs, so they stay paths inside the block. When a block had existentials, its
original variables are projected again (``SELECT ?x ?y WHERE { SELECT DISTINCT * … }``), so the
helper variables never leave it; a block without any variable projects one unbound helper instead.

Where duplicates cannot reach the answer nothing is wrapped (cheaper to run): the group of an
EXISTS / NOT EXISTS and the right side of MINUS (only existence counts); ASK, DESCRIBE, a
SELECT DISTINCT, a grouped SELECT whose aggregates ignore duplicates (MIN, MAX, any ``DISTINCT``
aggregate), CONSTRUCT and DELETE/INSERT whose template makes no blank node, unless a LIMIT/OFFSET
or a function returning a fresh value (BNODE, RAND, UUID, STRUUID) makes counts visible; DELETE
WHERE (deleting twice is deleting once). Sub-SELECTs decide again for their own WHERE clause.

Limits: a blank-node label shared by two different basic graph patterns of one group (SPARQL
forbids it) is not shared after the rewrite; the column order of ``SELECT *`` may change.

>>> print(set_default_graph('SELECT (COUNT(*) AS ?n) WHERE { ?s <http://e/p> ?o }'))
SELECT (COUNT(*) AS ?n) WHERE { { SELECT DISTINCT * WHERE { ?s <http://e/p> ?o } } }
>>> print(set_default_graph('SELECT DISTINCT ?s WHERE { ?s <http://e/p> ?o }'))
SELECT DISTINCT ?s WHERE { ?s <http://e/p> ?o }
>>> print(set_default_graph('PREFIX e: <http://e/> SELECT * { [] e:p/e:q ?o FILTER(?o > 1) GRAPH ?g { ?o e:r ?x } }'))
PREFIX e: <http://e/> SELECT * { { SELECT ?o WHERE { SELECT DISTINCT * WHERE { ?__kgt_1 e:p ?__kgt_2 . ?__kgt_2 e:q ?o } } } FILTER(?o > 1) GRAPH ?g { ?o e:r ?x } }
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from kg_twin.errors import InputError
from kg_twin.sparql.lexer import Token, tokenize

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_AGGREGATES = frozenset({"COUNT", "SUM", "AVG", "MIN", "MAX", "SAMPLE", "GROUP_CONCAT"})
_DUPLICATE_BLIND = frozenset({"MIN", "MAX"})  # the same answer over a bag and over its set
_FRESH_VALUES = frozenset({"BNODE", "RAND", "UUID", "STRUUID"})  # one new value per solution
_IN_TRIPLES = frozenset({"A", "TRUE", "FALSE"})  # the only bare words a triples block may hold
_OPEN = {")": "(", "}": "{", "]": "["}
_TERM_KINDS = frozenset({"VAR", "IRI", "PNAME", "STRING", "NUMBER", "BNODE"})

EXACT = True  # every solution's multiplicity matters: wrap blocks
SET = False  # only which solutions exist matters: leave blocks alone

# A property path: (kind, first token, last token, payload). kind: link (IRI, prefixed name, 'a'),
# var, inv (payload: the path), seq / alt (payload: the parts), mod (a path with * + ?), nps
# (payload: list of (inverse, IRI text)).
_Path = tuple[str, int, int, object]


@lru_cache(maxsize=1024)  # the same named queries come back again and again
def set_default_graph(text: str) -> str:
    """Rewrite a SPARQL 1.1 query or update so that a bag-merged default graph acts as a set.

    Queries (SELECT, ASK, CONSTRUCT, DESCRIBE) and updates (the WHERE clause of DELETE/INSERT) are
    both accepted; prefixed names, comments and layout are kept. The text comes back unchanged
    when nothing needs a rewrite. Raises :class:`~kg_twin.errors.InputError` (``SPARQL_SYNTAX``)
    with the line and column when the text is not SPARQL the rewrite can follow.

    >>> set_default_graph('ASK { ?s ?p ?o }')
    'ASK { ?s ?p ?o }'
    >>> print(set_default_graph('INSERT { ?s <http://e/n> [] } WHERE { ?s a <http://e/C> }'))
    INSERT { ?s <http://e/n> [] } WHERE { { SELECT DISTINCT * WHERE { ?s a <http://e/C> } } }
    >>> set_default_graph('SELECT * { ?s ?p }')
    Traceback (most recent call last):
    ...
    kg_twin.errors.InputError: [SPARQL_SYNTAX] expected an RDF term, found '}' (line 1, column 18)
      hint: check the query's syntax near this position; it must be SPARQL 1.1
    """
    toks = _tokens(text)
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


def _tokens(text: str) -> list[Token]:
    """The engine's view of the text; a '.' ending a prefixed name, blank node or number is a separate token."""
    out: list[Token] = []
    for t in tokenize(text, raw=True):
        if t.kind in ("PNAME", "BNODE", "NUMBER") and t.text.endswith(".") and not t.text.endswith("\\."):
            body = t.text
            while body.endswith(".") and not body.endswith("\\."):  # '\.' is an escaped dot of the name
                body = body[:-1]
            out.append(Token(t.kind, body, t.start, t.start + len(body)))
            out.extend(Token("PUNCT", ".", p, p + 1) for p in range(t.start + len(body), t.end))
        else:
            out.append(t)
    return out


def _line_col(text: str, pos: int) -> dict[str, int]:
    return {"line": text.count("\n", 0, pos) + 1, "column": pos - (text.rfind("\n", 0, pos) + 1) + 1}


@dataclass
class _Run:
    """Consecutive triples blocks of one group (FILTERs between them do not end a run)."""

    spans: list[tuple[int, int]] = field(default_factory=list)
    triples: list[str] = field(default_factory=list)
    conds: list[str] = field(default_factory=list)
    variables: dict[str, None] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    helpers: bool = False


@dataclass(frozen=True)
class _El:
    """An element of a group: kind (TRIPLES, FILTER, OPTIONAL, GROUP, UNION, ...), tokens a..b, its groups' '{'."""

    kind: str
    a: int
    b: int
    groups: tuple[int, ...]


class _Rewriter:
    def __init__(self, text: str, toks: list[Token]) -> None:
        self.text = text
        self.toks = toks
        self.n = len(toks)
        self.word = [t.text.upper() if t.kind == "NAME" else "" for t in toks]  # keywords, upper-cased
        self.sym = [t.text if t.kind == "PUNCT" else "" for t in toks]  # punctuation
        self.match = self._pairs()
        self.edits: list[tuple[int, int, str]] = []
        self.cache: dict[int, list[_El]] = {}  # elements of a group body, by its first token
        self.used = {t.text[1:] for t in toks if t.kind == "VAR"}
        self.counter = 0
        self.fresh_values = not _FRESH_VALUES.isdisjoint(self.word)

    # ------------------------------------------------------------------ tokens
    def error(self, k: int, message: str) -> InputError:
        pos = self.toks[k].start if k < self.n else len(self.text)
        found = repr(self.toks[k].text) if k < self.n else "the end"
        return InputError(
            "SPARQL_SYNTAX",
            f"{message}, found {found}",
            where=_line_col(self.text, pos),
            hint="check the query's syntax near this position; it must be SPARQL 1.1",
        )

    def _pairs(self) -> list[int]:
        match = [-1] * self.n
        stack: list[int] = []
        for i, t in enumerate(self.toks):
            if t.kind != "PUNCT":
                continue
            if t.text in ("(", "{", "["):
                stack.append(i)
            elif t.text in _OPEN:
                if not stack or self.toks[stack[-1]].text != _OPEN[t.text]:
                    raise self.error(i, "unbalanced brackets")
                j = stack.pop()
                match[i], match[j] = j, i
        if stack:
            raise self.error(stack[-1], "unclosed bracket")
        return match

    def kw(self, k: int, *words: str) -> bool:
        return k < self.n and self.word[k] in words

    def punct(self, k: int, text: str) -> bool:
        return k < self.n and self.sym[k] == text

    def closing(self, k: int, text: str = "{") -> int:
        if not self.punct(k, text):
            raise self.error(k, f"expected {text!r}")
        return self.match[k]

    def fresh(self, run: _Run | None = None) -> str:
        while True:
            self.counter += 1
            name = f"__kgt_{self.counter}"
            if name not in self.used:
                if run is not None:
                    run.helpers = True
                return "?" + name

    def span(self, a: int, b: int) -> str:
        return self.text[self.toks[a].start : self.toks[b].end]

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
        acc = _Run()
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

    def inner(self, el: _El, acc: _Run) -> None:
        """An element inside a wrapper: expose its existentials, note its variables."""
        if el.kind == "TRIPLES":
            block = _Run(labels=acc.labels, variables=acc.variables)
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

    # ------------------------------------------------------------------ triples
    def starts_term(self, k: int) -> bool:
        if k >= self.n:
            return False
        t = self.toks[k]
        return (
            t.kind in _TERM_KINDS
            or (t.kind == "PUNCT" and t.text in ("[", "("))
            or (t.kind == "NAME" and t.upper in ("TRUE", "FALSE"))
        )

    def starts_verb(self, k: int) -> bool:
        if k >= self.n:
            return False
        t = self.toks[k]
        return t.kind in ("VAR", "IRI", "PNAME") or t.text == "a" or (t.kind == "PUNCT" and t.text in ("^", "!", "("))

    def triples(self, k: int, end: int, run: _Run) -> int:
        """Parse a TriplesBlock at k into ``run``; return the index after it."""
        start = k
        while True:
            if self.punct(k, "[") or (self.punct(k, "(") and not self.punct(k + 1, ")")):
                subject, k = self.node(k, run)
                if self.starts_verb(k):
                    k = self.properties(subject, k, run)
            else:
                subject, k = self.node(k, run)
                k = self.properties(subject, k, run)
            if not self.punct(k, "."):
                break
            k += 1
            if k >= end or not self.starts_term(k):
                break
        if k > end:
            raise self.error(end, "a triple pattern runs past its group")
        run.spans.append((start, k - 1))
        return k

    def node(self, k: int, run: _Run) -> tuple[str, int]:
        """An RDF term, variable, blank node, ``[ ... ]`` or list at k: its text and the index after it."""
        if k >= self.n:
            raise self.error(k, "expected an RDF term")
        t = self.toks[k]
        if t.kind == "VAR":
            run.variables.setdefault(t.text[1:])
            return "?" + t.text[1:], k + 1
        if t.kind in ("IRI", "PNAME", "NUMBER") or (t.kind == "NAME" and t.upper in ("TRUE", "FALSE")):
            return t.text, k + 1
        if t.kind == "STRING":
            e = k + 1
            if e < self.n and self.toks[e].kind == "LANG":
                e += 1
            elif self.punct(e, "^^"):
                e += 2
            return self.span(k, e - 1), e
        if t.kind == "BNODE":
            if t.text not in run.labels:
                run.labels[t.text] = self.fresh()
            run.helpers = True
            return run.labels[t.text], k + 1
        if self.punct(k, "["):
            e = self.match[k]
            var = self.fresh(run)
            if e > k + 1 and self.properties(var, k + 1, run) != e:
                raise self.error(e, "expected ']'")
            return var, e + 1
        if self.punct(k, "("):
            e = self.match[k]
            if e == k + 1:
                return "()", e + 1
            head = cell = self.fresh(run)
            k += 1
            while k < e:
                item, k = self.node(k, run)
                nxt = self.fresh(run) if k < e else f"<{_RDF}nil>"
                run.triples.append(f"{cell} <{_RDF}first> {item}")
                run.triples.append(f"{cell} <{_RDF}rest> {nxt}")
                cell = nxt
            return head, e + 1
        raise self.error(k, "expected an RDF term")

    def properties(self, subject: str, k: int, run: _Run) -> int:
        """PropertyListPathNotEmpty after ``subject``."""
        while True:
            if k < self.n and self.toks[k].kind == "VAR":
                run.variables.setdefault(self.toks[k].text[1:])
                verb: _Path = ("var", k, k, None)
                k += 1
            else:
                verb, k = self.path(k)
            while True:
                obj, k = self.node(k, run)
                self.expand(subject, verb, obj, run)
                if not self.punct(k, ","):
                    break
                k += 1
            if not self.punct(k, ";"):
                return k
            while self.punct(k, ";"):
                k += 1
            if not self.starts_verb(k):
                return k

    def path(self, k: int) -> tuple[_Path, int]:
        parts = []
        start = k
        while True:
            part, k = self.sequence(k)
            parts.append(part)
            if not self.punct(k, "|"):
                break
            k += 1
        return (parts[0] if len(parts) == 1 else ("alt", start, k - 1, parts)), k

    def sequence(self, k: int) -> tuple[_Path, int]:
        parts = []
        start = k
        while True:
            if self.punct(k, "^"):
                inner, e = self.element(k + 1)
                parts.append(("inv", k, e - 1, inner))
                k = e
            else:
                part, k = self.element(k)
                parts.append(part)
            if not self.punct(k, "/"):
                break
            k += 1
        return (parts[0] if len(parts) == 1 else ("seq", start, k - 1, parts)), k

    def element(self, k: int) -> tuple[_Path, int]:
        start = k
        t = self.toks[k] if k < self.n else None
        if t is not None and (t.kind in ("IRI", "PNAME") or t.text == "a"):
            prim: _Path = ("link", k, k, None)
            k += 1
        elif self.punct(k, "!"):
            prim, k = self.negated(k)
        elif self.punct(k, "("):
            e = self.match[k]
            prim, inner_end = self.path(k + 1)
            if inner_end != e:
                raise self.error(inner_end, "expected ')' closing a path")
            k = e + 1
        else:
            raise self.error(k, "expected a property path")
        if k < self.n and self.toks[k].kind == "PUNCT" and self.toks[k].text in ("*", "+", "?"):
            return ("mod", start, k, prim), k + 1
        return prim, k

    def negated(self, k: int) -> tuple[_Path, int]:
        start = k
        k += 1
        if self.punct(k, "("):
            e = self.match[k]
            items: list[tuple[bool, str]] = []
            j = k + 1
            while j < e:
                inverse = self.punct(j, "^")
                j += 1 if inverse else 0
                tok = self.toks[j]
                if not (tok.kind in ("IRI", "PNAME") or tok.text == "a"):
                    raise self.error(j, "expected an IRI in a negated property set")
                items.append((inverse, f"<{_RDF}type>" if tok.text == "a" else tok.text))
                j += 1
                if j < e:
                    if not self.punct(j, "|"):
                        raise self.error(j, "expected '|' in a negated property set")
                    j += 1
            return ("nps", start, e, items), e + 1
        inverse = self.punct(k, "^")
        k += 1 if inverse else 0
        tok = self.toks[k] if k < self.n else None
        if tok is None or not (tok.kind in ("IRI", "PNAME") or tok.text == "a"):
            raise self.error(k, "expected an IRI after '!'")
        return ("nps", start, k, [(inverse, f"<{_RDF}type>" if tok.text == "a" else tok.text)]), k + 1

    def expand(self, s: str, p: _Path, o: str, run: _Run) -> None:
        """Triple patterns for ``s p o``, with every node the engine counts made a variable."""
        kind, a, b, payload = p
        if kind in ("link", "var"):
            text = self.toks[a].text
            run.triples.append(f"{s} {'?' + text[1:] if kind == 'var' else text} {o}")
        elif kind == "inv":
            self.expand(o, payload, s, run)  # type: ignore[arg-type]
        elif kind == "seq":
            parts: list[_Path] = payload  # type: ignore[assignment]
            cur = s
            for i, part in enumerate(parts):
                nxt = o if i == len(parts) - 1 else self.fresh(run)
                self.expand(cur, part, nxt, run)
                cur = nxt
        elif kind == "nps" and len({inv for inv, _ in payload}) <= 1:  # type: ignore[attr-defined]
            items: list[tuple[bool, str]] = payload  # type: ignore[assignment]
            pred = self.fresh(run)
            inverse = bool(items) and items[0][0]
            run.triples.append(f"{o} {pred} {s}" if inverse else f"{s} {pred} {o}")
            if items:
                run.conds.append(f"FILTER({pred} NOT IN ({', '.join(iri for _, iri in items)}))")
        else:  # alternatives, * + ?, two-way negated sets: the engine answers them as sets of pairs
            run.triples.append(f"{s} ({self.span(a, b)}) {o}")
