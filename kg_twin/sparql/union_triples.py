"""Triple patterns with their existentials made variables (for kg_twin.sparql.union).

A token view of a SPARQL text (brackets paired, keywords upper-cased) and a parser of TriplesBlock
that rewrites it into plain triple patterns the way the engine's own parser reads it: blank nodes,
``[]``, ``[ ... ]`` and lists become fresh variables ``?__kgt_N``; ``^p`` swaps subject and object;
``p/q`` joins two patterns on a fresh variable; a negated property set going one way becomes a
predicate variable with ``FILTER(... NOT IN (...))``; alternatives and ``* + ?`` stay paths.

>>> v = TokenView("?s ^<p>/<q> [ <r> 1 ] .", tokens("?s ^<p>/<q> [ <r> 1 ] ."))
>>> run = Run()
>>> v.triples(0, v.n, run), run.triples
(10, ['?__kgt_1 <r> 1', '?__kgt_2 <p> ?s', '?__kgt_2 <q> ?__kgt_1'])
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg_twin.errors import InputError
from kg_twin.sparql.lexer import Token, tokenize

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_OPEN = {")": "(", "}": "{", "]": "["}
_TERM_KINDS = frozenset({"VAR", "IRI", "PNAME", "STRING", "NUMBER", "BNODE"})

# A property path: (kind, first token, last token, payload). kind: link (IRI, prefixed name, 'a'),
# var, inv (payload: the path), seq / alt (payload: the parts), mod (a path with * + ?), nps
# (payload: list of (inverse, IRI text)).
Path = tuple[str, int, int, object]


def tokens(text: str) -> list[Token]:
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
class Run:
    """Consecutive triples blocks of one group (FILTERs between them do not end a run)."""

    spans: list[tuple[int, int]] = field(default_factory=list)
    triples: list[str] = field(default_factory=list)
    conds: list[str] = field(default_factory=list)
    variables: dict[str, None] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    helpers: bool = False


class TokenView:
    """The tokens of a text with brackets paired, and the TriplesBlock parser."""

    def __init__(self, text: str, toks: list[Token]) -> None:
        self.text = text
        self.toks = toks
        self.n = len(toks)
        self.word = [t.text.upper() if t.kind == "NAME" else "" for t in toks]  # keywords, upper-cased
        self.sym = [t.text if t.kind == "PUNCT" else "" for t in toks]  # punctuation
        self.match = self._pairs()
        self.edits: list[tuple[int, int, str]] = []
        self.used = {t.text[1:] for t in toks if t.kind == "VAR"}
        self.counter = 0

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

    def fresh(self, run: Run | None = None) -> str:
        while True:
            self.counter += 1
            name = f"__kgt_{self.counter}"
            if name not in self.used:
                if run is not None:
                    run.helpers = True
                return "?" + name

    def span(self, a: int, b: int) -> str:
        return self.text[self.toks[a].start : self.toks[b].end]

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

    def triples(self, k: int, end: int, run: Run) -> int:
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

    def node(self, k: int, run: Run) -> tuple[str, int]:
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
                nxt = self.fresh(run) if k < e else f"<{RDF}nil>"
                run.triples.append(f"{cell} <{RDF}first> {item}")
                run.triples.append(f"{cell} <{RDF}rest> {nxt}")
                cell = nxt
            return head, e + 1
        raise self.error(k, "expected an RDF term")

    def properties(self, subject: str, k: int, run: Run) -> int:
        """PropertyListPathNotEmpty after ``subject``."""
        while True:
            if k < self.n and self.toks[k].kind == "VAR":
                run.variables.setdefault(self.toks[k].text[1:])
                verb: Path = ("var", k, k, None)
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

    def path(self, k: int) -> tuple[Path, int]:
        parts = []
        start = k
        while True:
            part, k = self.sequence(k)
            parts.append(part)
            if not self.punct(k, "|"):
                break
            k += 1
        return (parts[0] if len(parts) == 1 else ("alt", start, k - 1, parts)), k

    def sequence(self, k: int) -> tuple[Path, int]:
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

    def element(self, k: int) -> tuple[Path, int]:
        start = k
        t = self.toks[k] if k < self.n else None
        if t is not None and (t.kind in ("IRI", "PNAME") or t.text == "a"):
            prim: Path = ("link", k, k, None)
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

    def negated(self, k: int) -> tuple[Path, int]:
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
                items.append((inverse, f"<{RDF}type>" if tok.text == "a" else tok.text))
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
        return ("nps", start, k, [(inverse, f"<{RDF}type>" if tok.text == "a" else tok.text)]), k + 1

    def expand(self, s: str, p: Path, o: str, run: Run) -> None:
        """Triple patterns for ``s p o``, with every node the engine counts made a variable."""
        kind, a, b, payload = p
        if kind in ("link", "var"):
            text = self.toks[a].text
            run.triples.append(f"{s} {'?' + text[1:] if kind == 'var' else text} {o}")
        elif kind == "inv":
            self.expand(o, payload, s, run)  # type: ignore[arg-type]
        elif kind == "seq":
            parts: list[Path] = payload  # type: ignore[assignment]
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
