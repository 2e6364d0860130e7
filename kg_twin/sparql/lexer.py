"""A SPARQL 1.1 lexer, just enough to find dataset and federation clauses.

It is used to (1) find ``SERVICE`` calls so they can be checked against the
allow-list and (2) rewrite updates so they stay inside one project's graphs.
Codepoint escapes (``\\uXXXX``) are processed first, as the SPARQL grammar says.

>>> [t.kind for t in tokenize('SELECT * { SERVICE <http://x/sparql> { ?s ?p "}" } }')]
['NAME', 'PUNCT', 'PUNCT', 'NAME', 'IRI', 'PUNCT', 'VAR', 'VAR', 'STRING', 'PUNCT', 'PUNCT']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

from kg_twin.errors import InputError

_TOKEN_RE = re.compile(
    r"""
    (?P<WS>\s+)
  | (?P<COMMENT>\#[^\n]*)
  | (?P<STRING>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''|"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
  | (?P<IRI><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<VAR>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
  | (?P<PNAME>(?:[A-Za-z\u00C0-\uFFFF][\w\-.\u00B7\u00C0-\uFFFF]*)?:(?:[\w\-.:%\u00B7\u00C0-\uFFFF]|\\[_~.\-!$&'()*+,;=/?\#@%])*)
  | (?P<LANG>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<BNODE>_:[\w\-.]+)
  | (?P<NAME>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<NUMBER>[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
  | (?P<PUNCT>\^\^|&&|\|\||!=|<=|>=|[{}()\[\];,.*=<>!+\-/^|?@])
    """,
    re.VERBOSE | re.DOTALL,
)

# The engine (oxigraph) does not pre-process \\u escapes everywhere as the SPARQL text says: it
# only decodes them inside IRIs and strings. "Raw" tokenization follows the engine, so that checks
# see what will really run (e.g. `"x\\u005C" . SERVICE <...>` hides a SERVICE from the
# pre-processed view, whose string swallows the rest of the line).
_RAW_TOKEN_RE = re.compile(
    _TOKEN_RE.pattern.replace(
        r"""(?P<IRI><[^<>"{}|^`\\\x00-\x20]*>)""",
        r"""(?P<IRI><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)""",
    ),
    re.VERBOSE | re.DOTALL,
)
assert _RAW_TOKEN_RE.pattern != _TOKEN_RE.pattern

_ESCAPE_RE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


@dataclass
class Token:
    kind: str
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def unescape_codepoints(text: str) -> str:
    return _ESCAPE_RE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def _line_col(text: str, pos: int) -> dict[str, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return {"line": line, "column": col}


def tokenize(text: str, *, raw: bool = False) -> list[Token]:
    """Tokens of a SPARQL text (comments and white space dropped).

    ``raw``: tokenize the text as the engine does (``\\u`` escapes allowed inside IRIs and strings
    only, not decoded); otherwise the caller passes text already run through :func:`unescape_codepoints`.
    """
    out: list[Token] = []
    pos = 0
    n = len(text)
    rx = _RAW_TOKEN_RE if raw else _TOKEN_RE
    while pos < n:
        m = rx.match(text, pos)
        if not m:
            raise InputError(
                "SPARQL_SYNTAX",
                f"unexpected character {text[pos]!r}",
                where=_line_col(text, pos),
                hint="check quoting of strings and IRIs near this position",
            )
        kind = m.lastgroup or "?"
        if kind not in ("WS", "COMMENT"):
            out.append(Token(kind, m.group(0), m.start(), m.end()))
        pos = m.end()
    return out


_OPEN = {"{": "}", "(": ")", "[": "]"}
_CLOSE = frozenset(_OPEN.values())


@lru_cache(maxsize=1024)
def nesting_depth(text: str) -> int:
    """Deepest nesting of ``{ ( [`` in a SPARQL text, as the engine's recursive parser would meet it.

    Counted on the token streams (strings and comments do not count). An ``<...>`` token may be an
    operator for the engine (``?a<((1))>2``), so brackets inside IRIs are counted as if they were
    brackets, except that closers inside an IRI never lower the count: the result is an upper
    bound of both readings. Counted on every view that tokenizes (a text no view tokenizes raises
    the lexer's error; callers refuse a text whose engine view does not tokenize, after their checks).

    >>> nesting_depth("SELECT * { ?s ?p ( 1 ( 2 ) ) FILTER(?s) }")
    3
    >>> nesting_depth('ASK { "{{{{" }')
    1
    >>> nesting_depth("ASK { ?a ?b ?c FILTER(?a<((((1>2) }")
    6
    """
    views, _error = token_views(text)
    deepest = 0
    for toks in views:
        depth = 0
        for t in toks:
            if t.kind == "PUNCT":
                if t.text in _OPEN:
                    depth += 1
                    deepest = max(deepest, depth)
                elif t.text in _CLOSE:
                    depth -= 1
            elif t.kind == "IRI":
                inner = 0
                peak = 0
                for ch in t.text:
                    if ch in _OPEN:
                        inner += 1
                        peak = max(peak, inner)
                    elif ch in _CLOSE:
                        inner -= 1
                deepest = max(deepest, depth + peak)
                depth += max(0, inner)
    return deepest


class Prologue:
    """BASE / PREFIX declarations seen so far, to resolve IRIs and prefixed names."""

    def __init__(self, base: str | None = None) -> None:
        self.base = base
        self.prefixes: dict[str, str] = {}

    def resolve(self, tok: Token) -> str | None:
        if tok.kind == "IRI":
            iri = tok.text[1:-1]
            if self.base and not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", iri):
                return urljoin(self.base, iri)
            return iri
        if tok.kind == "PNAME":
            prefix, _, local = tok.text.partition(":")
            if prefix not in self.prefixes:
                raise InputError("SPARQL_SYNTAX", f"undeclared prefix {prefix!r}", hint=f"add PREFIX {prefix}: <...>")
            local = re.sub(r"\\(.)", r"\1", local)
            return self.prefixes[prefix] + local
        return None

    def feed(self, toks: list[Token], i: int) -> int:
        """Consume BASE/PREFIX declarations at ``toks[i]``; return the new index."""
        while i < len(toks):
            t = toks[i]
            if t.upper == "BASE" and i + 1 < len(toks) and toks[i + 1].kind == "IRI":
                self.base = self.resolve(toks[i + 1])
                i += 2
            elif t.upper == "PREFIX" and i + 2 < len(toks) and toks[i + 1].kind == "PNAME" and toks[i + 2].kind == "IRI":
                self.prefixes[toks[i + 1].text.rstrip(":").split(":")[0]] = self.resolve(toks[i + 2]) or ""
                i += 3
            else:
                break
        return i


def service_targets(text: str, base: str | None = None) -> list[str]:
    """IRIs (or '?var') of every SERVICE clause in a query or update.

    >>> service_targets('PREFIX e: <http://e/> SELECT * { SERVICE SILENT e:sparql { ?s ?p ?o } }')
    ['http://e/sparql']
    >>> service_targets('SELECT * { ?s <http://e/service> "SERVICE <x>" }')
    []
    """
    views, error = token_views(text)
    out: list[str] = []
    for toks in views:
        out.extend(t for t in _service_targets(toks, base) if t not in out)
    if error is not None and not out:
        raise error
    return out


def token_views(text: str) -> tuple[list[list[Token]], InputError | None]:
    """The token streams a check must pass: the engine's (raw) view and the escape-processed view.

    Returns the views that tokenize and the engine view's error, if any (callers refuse the text
    then, after reporting what the other view shows). The escape-processed view is skipped when it
    does not tokenize (e.g. ``"a\\u0022b"``: a quote inside a string for the engine).
    """
    views: list[list[Token]] = []
    error: InputError | None = None
    try:
        views.append(tokenize(text, raw=True))
    except InputError as e:
        error = e
    unescaped = unescape_codepoints(text)
    if unescaped != text or error is not None:
        try:
            views.append(tokenize(unescaped))
        except InputError:
            pass
    if not views and error is not None:
        raise error
    return views, error


def _service_targets(toks: list[Token], base: str | None) -> list[str]:
    pro = Prologue(base)
    out: list[str] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "NAME" and t.upper in ("BASE", "PREFIX"):
            j = pro.feed(toks, i)
            if j > i:
                i = j
                continue
        if t.kind == "NAME" and t.upper == "SERVICE":
            j = i + 1
            if j < len(toks) and toks[j].upper == "SILENT":
                j += 1
            if j < len(toks):
                tgt = toks[j]
                out.append(tgt.text if tgt.kind == "VAR" else unescape_codepoints(pro.resolve(tgt) or tgt.text))
            else:
                out.append("")
        i += 1
    return out


def check_services(text: str, allowlist: list[str], base: str | None = None) -> None:
    """Raise Forbidden unless every SERVICE target starts with an allow-listed prefix."""
    views, error = token_views(text)
    targets: list[str] = []
    for toks in views:
        targets.extend(t for t in _service_targets(toks, base) if t not in targets)
    check_service_targets(targets, allowlist)
    if error is not None:  # the engine's view does not tokenize: refuse rather than guess
        raise error


def check_service_targets(targets: "list[str] | tuple[str, ...]", allowlist: list[str]) -> None:
    """Raise Forbidden unless every target starts with an allow-listed prefix."""
    from kg_twin.errors import Forbidden

    for target in targets:
        if target.startswith(("?", "$")) or not target:
            raise Forbidden(
                "SERVICE_VARIABLE",
                "SERVICE with a variable endpoint is not allowed",
                hint="name the remote endpoint IRI explicitly; it must be in KG_TWIN_SERVICE_ALLOWLIST",
            )
        if not any(target.startswith(p) for p in allowlist):
            raise Forbidden(
                "SERVICE_NOT_ALLOWED",
                f"SERVICE <{target}> is not in the server's allow-list",
                hint="ask the administrator to add the endpoint to KG_TWIN_SERVICE_ALLOWLIST"
                + ("" if allowlist else " (SERVICE is disabled: the list is empty)"),
            )


def check_no_load(text: str) -> None:
    """Raise Forbidden if an update contains LOAD in any view (LOAD fetches URLs from the server)."""
    from kg_twin.errors import Forbidden

    views, _ = token_views(text)
    for toks in views:
        if any(t.kind == "NAME" and t.upper == "LOAD" for t in toks):
            raise Forbidden(
                "LOAD_DISABLED",
                "SPARQL LOAD is disabled on this server",
                hint="upload the data with the Graph Store Protocol (PUT/POST /projects/{p}/graphs) or `kg-twin load`",
            )


NO_SERVICE = "urn:kg-twin:no-service"


def without_services(text: str) -> str:
    """The text with every SERVICE call pointed at a name no engine can reach (and made SILENT),
    for checks that evaluate a query (named-query checks) without opening any connection.

    >>> without_services("SELECT * { SERVICE <http://127.0.0.1:1/s> { ?s ?p ?o } }")
    'SELECT * { SERVICE SILENT <urn:kg-twin:no-service> { ?s ?p ?o } }'
    """
    toks = tokenize(text, raw=True)
    out: list[str] = []
    pos = 0
    for i, t in enumerate(toks):
        if t.kind == "NAME" and t.upper == "SERVICE" and i + 1 < len(toks):
            j = i + 1
            silent = toks[j].upper == "SILENT"
            if silent:
                j += 1
            if j < len(toks) and toks[j].kind in ("IRI", "PNAME", "VAR"):
                out.append(text[pos:t.start])
                out.append(f"SERVICE SILENT <{NO_SERVICE}>")
                pos = toks[j].end
    out.append(text[pos:])
    return "".join(out)
