"""A project as an RDF dataset: client graph names, their stored names, and query rewriting.

Every project lives in one store. A client may name its graphs with any IRI; isolation comes from
the project, never from the shape of the IRI. Graph ``G`` of project ``p`` is stored as:

* ``G`` itself when ``G`` starts with ``{base}graph/{p}/`` (the names kg-twin mints), or
* ``{base}graph/{p}/~/`` followed by ``G`` otherwise (an IRI followed by an IRI is still an IRI).

So every stored graph of ``p`` starts with ``{base}graph/{p}/``, two projects may both hold
``<http://example.org/g>``, and both directions of the mapping are plain string functions that
SPARQL itself can compute (``STRAFTER`` / ``CONCAT``). Names under ``{base}graph/{p}/_`` (staging,
quarantine, queries), ``{base}graph/{p}/~/`` and ``{base}graph/{p}/inferred`` are reserved.

A query sent to a project endpoint is rewritten so that the engine reads stored names while the
query sees client names everywhere (``GRAPH ?g`` joins ``?g`` with a table of the dataset's graphs
pairing stored and client names, so joins, ``FILTER``, ``VALUES``, ``EXISTS`` and ``STR`` see what
the client wrote):

>>> d = ProjectDataset("http://t/graph/p/", mode="default")
>>> d.stored("http://example.org/g")
'http://t/graph/p/~/http://example.org/g'
>>> d.client("http://t/graph/p/~/http://example.org/g")
'http://example.org/g'
>>> print(d.rewrite_query("SELECT * { GRAPH <http://example.org/g> { ?s ?p ?o } }", []))
SELECT * { GRAPH <http://t/graph/p/~/http://example.org/g> { ?s ?p ?o } }
>>> print(d.rewrite_query("SELECT * { SERVICE <http://remote/sparql> { GRAPH ?g { ?s ?p ?o } } }", []))
SELECT * { SERVICE <http://remote/sparql> { GRAPH ?g { ?s ?p ?o } } }
>>> print(d.rewrite_query("SELECT ?g { GRAPH ?g { ?s ?p ?o } }", ["http://t/graph/p/~/http://example.org/g", "http://t/graph/p/a"]))
SELECT ?g { { VALUES (?__kgt_g1 ?g) { (<http://t/graph/p/~/http://example.org/g> <http://example.org/g>) (<http://t/graph/p/a> <http://t/graph/p/a>) } GRAPH ?__kgt_g1 { ?s ?p ?o } } }
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kg_twin.errors import InputError
from kg_twin.sparql.lexer import Prologue, Token, tokenize, unescape_codepoints
from kg_twin.sparql.union import set_default_graph

Mode = Literal["union", "default"]
MODES: tuple[str, ...] = ("union", "default")
HELPER_PREFIX = "__kgt"  # variables the rewriting adds; dropped from results
FOREIGN = "~/"
DEFAULT_NAME = "default"
INFERRED_NAME = "inferred"


def _is_absolute(iri: str) -> bool:
    head, sep, _ = iri.partition(":")
    return bool(sep) and head[:1].isalpha() and all(c.isalnum() or c in "+-." for c in head)


_BAD_IRI_CHARS = set('<>"{}|^`\\') | {chr(c) for c in range(0x21)}


def _iri_char(cp: int, in_query: bool) -> bool:
    """RFC 3987 ``ucschar`` (and ``iprivate`` in the query) for code points past ASCII; DEL is out."""
    if cp < 0x7F:
        return True
    if 0xA0 <= cp <= 0xD7FF or 0xF900 <= cp <= 0xFDCF or 0xFDF0 <= cp <= 0xFFEF:
        return True
    if 0x10000 <= cp <= 0xEFFFD and (cp & 0xFFFF) <= 0xFFFD and not 0xE0000 <= cp <= 0xE0FFF:
        return True
    return in_query and (0xE000 <= cp <= 0xF8FF or (cp >= 0xF0000 and (cp & 0xFFFF) <= 0xFFFD))


def check_graph_iri(iri: str) -> str:
    """A graph name a client sends: an absolute IRI without characters IRIs may not hold.

    >>> check_graph_iri("http://example.org/g")
    'http://example.org/g'
    >>> check_graph_iri("http://example.org/a\\x9a")
    Traceback (most recent call last):
    ...
    kg_twin.errors.InputError: [BAD_GRAPH_IRI] graph name 'http://example.org/a\\x9a' is not an IRI: character '\\x9a' (U+009A) at position 21 is not allowed
      hint: percent-encode the character, or pick another graph IRI
    >>> check_graph_iri("http://example.org/a b")
    Traceback (most recent call last):
    ...
    kg_twin.errors.InputError: [BAD_GRAPH_IRI] graph name 'http://example.org/a b' is not an IRI: character ' ' (U+0020) at position 21 is not allowed
      hint: percent-encode the character, or pick another graph IRI
    """
    query_at = iri.find("?")
    for i, c in enumerate(iri):
        if c in _BAD_IRI_CHARS or c == "\ufffd" or not _iri_char(ord(c), 0 <= query_at < i):
            raise InputError(
                "BAD_GRAPH_IRI",
                f"graph name {iri!r} is not an IRI: character {c!r} (U+{ord(c):04X}) at position {i + 1} is not allowed",
                hint="percent-encode the character, or pick another graph IRI",
            )
    if not _is_absolute(iri):
        raise InputError("BAD_GRAPH_IRI", f"graph name {iri!r} is not an absolute IRI", hint="use a full IRI such as http://example.org/g, or a short name without ':'")
    return iri


@dataclass(frozen=True)
class ProjectDataset:
    """Graph naming and dataset rules of one project (``prefix`` = ``{base}graph/{p}/``)."""

    prefix: str
    mode: Mode = "union"

    # names ----------------------------------------------------------------
    @property
    def default_graph(self) -> str:
        return self.prefix + DEFAULT_NAME

    @property
    def inferred_graph(self) -> str:
        return self.prefix + INFERRED_NAME

    def reserved(self, iri: str) -> bool:
        """Stored names a client may not write to directly."""
        if not iri.startswith(self.prefix):
            return False
        rest = iri[len(self.prefix) :]
        return rest == "" or rest.startswith(("_", FOREIGN)) or rest == INFERRED_NAME

    def stored(self, client: str) -> str:
        """Stored name of a client graph IRI (refuses reserved names)."""
        if client.startswith(self.prefix):
            if self.reserved(client):
                raise InputError(
                    "RESERVED_GRAPH",
                    f"graph <{client}> is reserved by kg-twin",
                    hint=f"pick a graph IRI outside <{self.prefix}_…>, <{self.prefix}~/…> and <{self.inferred_graph}>",
                )
            return client
        return self.prefix + FOREIGN + client

    def read_name(self, client: str) -> str:
        """Stored name of a graph a query reads: as :meth:`stored`, but a reserved name is never an
        error there, it names a graph that holds nothing (``FROM``, ``GRAPH <…>``, dataset parameters)."""
        return self.prefix + FOREIGN + client if self.reserved(client) else self.stored(client)

    def client(self, stored: str) -> str:
        """Client name of a stored graph name (the inverse of :meth:`stored`)."""
        head = self.prefix + FOREIGN
        return stored[len(head) :] if stored.startswith(head) else stored

    def named_graphs(self, stored_graphs: list[str]) -> list[str]:
        """The graphs ``GRAPH`` may visit: every visible graph but the inferred one (and, in
        ``default`` mode, the unnamed default graph, which is not a named graph)."""
        skip = {self.inferred_graph, self.default_graph}
        return [g for g in stored_graphs if g not in skip]

    def default_graphs(self, stored_graphs: list[str], *, inferred: bool = True) -> list[str]:
        """The graphs merged into the query's default graph."""
        if self.mode == "default":
            out = [self.default_graph]
        else:
            out = [g for g in stored_graphs if g != self.inferred_graph]
            if self.default_graph not in out:
                out.append(self.default_graph)
        if inferred:
            out.append(self.inferred_graph)
        return out

    # SPARQL expressions ---------------------------------------------------
    def client_expr(self, var: str) -> str:
        """SPARQL expression: the client name of the stored graph name in ``var``."""
        head = _lit(self.prefix + FOREIGN)
        return f"IF(STRSTARTS(STR({var}), {head}), IRI(STRAFTER(STR({var}), {head})), {var})"

    def stored_expr(self, var: str) -> str:
        """SPARQL expression: the stored name of the client graph IRI in ``var``; an error (so the
        variable stays unbound and a template quad is skipped) for reserved names and non-IRIs."""
        p = _lit(self.prefix)
        reserved = f"(STRSTARTS(STR({var}), {_lit(self.prefix + '_')}) || STRSTARTS(STR({var}), {_lit(self.prefix + FOREIGN)}) || STR({var}) = {_lit(self.inferred_graph)} || STR({var}) = {p})"
        unbound = f"?{HELPER_PREFIX}_none"
        return (
            f"IF(isIRI({var}), IF(STRSTARTS(STR({var}), {p}), IF({reserved}, {unbound}, {var}), "
            f"IRI(CONCAT({_lit(self.prefix + FOREIGN)}, STR({var})))), {unbound})"
        )

    # rewriting ------------------------------------------------------------
    def rewrite_query(self, text: str, named: list[str], *, base: str | None = None, merged: int = 1) -> str:
        """Rewrite a query so it runs on stored names (module doc); ``named``: the stored names of
        the dataset's named graphs; ``merged``: how many graphs make its default graph (more than
        one: their union must be a set, :func:`kg_twin.sparql.union.set_default_graph`)."""
        if merged > 1:
            text = set_default_graph(text)
        return _GraphRewriter(self, text, base, named=named).query()

    def rewrite_update(self, text: str) -> str:
        """The part of update rewriting that depends on the mode: in ``union`` mode the WHERE
        clauses read the union of the graphs as a set (confinement does the rest)."""
        return set_default_graph(text) if self.mode == "union" else text


def _lit(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _GraphRewriter:
    """Token-level rewriting of ``GRAPH`` patterns (constants and variables)."""

    def __init__(
        self,
        ds: ProjectDataset,
        text: str,
        base: str | None,
        toks: list[Token] | None = None,
        pro: Prologue | None = None,
        *,
        absolute: bool = False,
        named: list[str] | None = None,
    ) -> None:
        self.ds = ds
        self.named = named or []  # stored names of the dataset's named graphs (for GRAPH ?g)
        self.toks = toks if toks is not None else tokenize(unescape_codepoints(text))
        self.pro = pro if pro is not None else Prologue(base)
        self.absolute = absolute  # write every IRI absolute (the output has no prologue)
        self.counter = 0
        self.changed = False
        self.text = text

    def fresh(self, what: str) -> str:
        self.counter += 1
        return f"?{HELPER_PREFIX}_{what}{self.counter}"

    def query(self) -> str:
        toks = self.toks
        if not any(t.kind == "NAME" and t.upper == "GRAPH" for t in toks):
            return self.text
        out = self.emit(0, len(toks))
        return " ".join(out) if self.changed else self.text

    def match(self, i: int) -> int:
        depth = 0
        for j in range(i, len(self.toks)):
            t = self.toks[j].text
            if t == "{":
                depth += 1
            elif t == "}":
                depth -= 1
                if depth == 0:
                    return j
        raise InputError("SPARQL_SYNTAX", "unbalanced braces in the query", hint="every '{' needs a matching '}'")

    def emit(self, a: int, b: int) -> list[str]:
        """Tokens a..b-1 as text, with GRAPH patterns rewritten."""
        toks = self.toks
        out: list[str] = []
        k = a
        while k < b:
            t = toks[k]
            if t.kind == "NAME" and t.upper in ("BASE", "PREFIX"):
                j = self.pro.feed(toks, k)
                if j > k:
                    out.extend(x.text for x in toks[k:j])
                    k = j
                    continue
            if t.kind == "NAME" and t.upper == "SERVICE":
                # a remote endpoint's patterns name its graphs, not the project's: copied as written
                j = k + 1
                while j < b and toks[j].text != "{":
                    j += 1
                close = self.match(j) if j < b else b - 1
                for x in toks[k : close + 1]:
                    out.append(f"<{self.pro.resolve(x)}>" if self.absolute and x.kind in ("IRI", "PNAME") else x.text)
                k = close + 1
                continue
            if t.kind == "NAME" and t.upper == "GRAPH" and k + 2 < b and toks[k + 2].text == "{":
                g = toks[k + 1]
                if g.kind in ("IRI", "PNAME"):
                    out.append(f"GRAPH <{self.ds.read_name(self.pro.resolve(g) or '')}>")
                    self.changed = True
                    k += 2
                    continue
                if g.kind == "VAR":
                    close = self.match(k + 2)
                    out.extend(self.graph_var(g.text, k + 2, close))
                    self.changed = True
                    k = close + 1
                    continue
            if self.absolute and t.kind in ("IRI", "PNAME"):
                out.append(f"<{self.pro.resolve(t)}>")
            else:
                out.append(t.text)
            k += 1
        return out

    def graph_var(self, target: str, open_: int, close: int) -> list[str]:
        """``GRAPH ?g { P }`` -> ``{ VALUES (?s ?g) { (stored client) … } GRAPH ?s { P } }``.

        The table pairs every named graph of the dataset with its client name, so ``?g`` is joined
        (by compatibility, as the algebra's ``Graph`` operator does) with the client name: exact also
        when ``P`` binds ``?g`` itself or when ``?g`` comes bound from outside (``EXISTS``)."""
        stored_var = self.fresh("g")
        rows = " ".join(f"(<{g}> <{self.ds.client(g)}>)" for g in self.named)
        body = self.emit(open_ + 1, close)
        return ["{", f"VALUES ({stored_var} {target}) {{ {rows} }}", "GRAPH", stored_var, "{", *body, "}", "}"]
