"""SPARQL 1.1 Protocol: turn an HTTP request into a query/update operation, and run it.

Used by the project endpoint (``/projects/{p}/sparql``) and the federated endpoint
(``/sparql``). Access control decides the dataset; the text never chooses it alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable
from functools import lru_cache
from urllib.parse import parse_qsl

from kg_twin.errors import Forbidden, InputError, UnsupportedMediaType
from kg_twin.store.base import Dataset
from kg_twin.sparql.lexer import Prologue, tokenize, unescape_codepoints

FORM = "application/x-www-form-urlencoded"
QUERY_MT = "application/sparql-query"
UPDATE_MT = "application/sparql-update"


@dataclass
class Operation:
    kind: str  # "query" | "update" | "none"
    text: str = ""
    default_graph_uri: list[str] = field(default_factory=list)
    named_graph_uri: list[str] = field(default_factory=list)
    using_graph_uri: list[str] = field(default_factory=list)
    using_named_graph_uri: list[str] = field(default_factory=list)
    params: dict[str, list[str]] = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        v = self.params.get(name)
        return v[-1] if v else None


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def _charset_ok(content_type: str) -> bool:
    m = re.search(r"charset\s*=\s*\"?([A-Za-z0-9_\-]+)", content_type, re.I)
    return m is None or m.group(1).lower() in ("utf-8", "utf8", "us-ascii", "ascii")


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError("BAD_ENCODING", f"request body is not UTF-8: {e}", hint="send SPARQL text encoded as UTF-8") from None


def parse_operation(method: str, query_string: str, content_type: str | None, body: bytes, max_bytes: int) -> Operation:
    """Parse a SPARQL protocol request (raises InputError / UnsupportedMediaType on protocol errors)."""
    url = _multi(parse_qsl(query_string, keep_blank_values=True))
    ct = (content_type or "").split(";")[0].strip().lower()
    params = dict(url)
    if method == "POST" and ct == FORM:
        if not _charset_ok(content_type or ""):
            raise UnsupportedMediaType("BAD_CHARSET", "form bodies must be UTF-8", hint="use charset=UTF-8")
        form = _multi(parse_qsl(_decode(body), keep_blank_values=True))
        for k, v in form.items():
            params.setdefault(k, []).extend(v)
    queries = params.get("query", [])
    updates = params.get("update", [])
    if len(queries) > 1 or len(updates) > 1:
        raise InputError("PROTOCOL", "more than one query or update string in the request", hint="send exactly one 'query' or 'update' parameter")
    if queries and updates:
        raise InputError("PROTOCOL", "a request carries either a query or an update, not both")
    op = Operation(
        "none",
        default_graph_uri=params.get("default-graph-uri", []),
        named_graph_uri=params.get("named-graph-uri", []),
        using_graph_uri=params.get("using-graph-uri", []),
        using_named_graph_uri=params.get("using-named-graph-uri", []),
        params=params,
    )
    if method == "GET":
        if updates:
            raise InputError("PROTOCOL", "updates must be sent with POST", hint="POST the update as application/sparql-update or form field 'update'", status=400)
        if queries:
            op.kind, op.text = "query", queries[0]
        return _check_size(op, max_bytes)
    if method != "POST":
        raise InputError("PROTOCOL", f"method {method} is not part of the SPARQL protocol", hint="use GET or POST", status=405)
    if ct == FORM:
        if queries:
            op.kind, op.text = "query", queries[0]
        elif updates:
            op.kind, op.text = "update", updates[0]
        else:
            raise InputError("PROTOCOL", "form body has neither 'query' nor 'update'")
    elif ct == QUERY_MT:
        if not _charset_ok(content_type or ""):
            raise UnsupportedMediaType("BAD_CHARSET", "SPARQL queries must be UTF-8", hint="send Content-Type: application/sparql-query; charset=UTF-8")
        if queries or updates:
            raise InputError("PROTOCOL", "a direct POST must not also carry query/update parameters")
        op.kind, op.text = "query", _decode(body)
    elif ct == UPDATE_MT:
        if not _charset_ok(content_type or ""):
            raise UnsupportedMediaType("BAD_CHARSET", "SPARQL updates must be UTF-8", hint="send Content-Type: application/sparql-update; charset=UTF-8")
        if queries or updates:
            raise InputError("PROTOCOL", "a direct POST must not also carry query/update parameters")
        op.kind, op.text = "update", _decode(body)
    else:
        raise UnsupportedMediaType(
            "UNSUPPORTED_MEDIA_TYPE",
            f"POST with Content-Type {ct or '(none)'} is not a SPARQL protocol request",
            hint=f"use {QUERY_MT}, {UPDATE_MT} or {FORM}",
        )
    return _check_size(op, max_bytes)


def _check_size(op: Operation, max_bytes: int) -> Operation:
    if len(op.text.encode("utf-8")) > max_bytes:
        from kg_twin.errors import PayloadTooLarge

        raise PayloadTooLarge("QUERY_TOO_LARGE", f"the SPARQL text is larger than {max_bytes} bytes", hint="raise KG_TWIN_MAX_QUERY_BYTES or simplify the query")
    return op


_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")


@dataclass(frozen=True)
class Analysis:
    """What the service needs to know about a query text before running it (one lexer pass)."""

    form: str
    services: tuple[str, ...]
    from_default: tuple[str, ...]
    from_named: tuple[str, ...]
    error: InputError | None = None  # the engine's view of the text does not tokenize: refuse after the checks
    limit: int | None = None  # the top-level LIMIT (outside every brace): the answer has at most that many rows


@lru_cache(maxsize=2048)
def analyze(text: str, base: str | None = None) -> Analysis:
    """Query form, SERVICE targets and FROM / FROM NAMED IRIs, from a single lexer pass (cached).

    >>> a = analyze("PREFIX e: <http://e/> SELECT * FROM e:g { SERVICE <http://s/> { ?s ?p ?o } }")
    >>> a.form, a.services, a.from_default
    ('SELECT', ('http://s/',), ('http://e/g',))
    >>> analyze("SELECT * { { SELECT * { ?s ?p ?o } LIMIT 5 } } ORDER BY ?s LIMIT 20").limit
    20
    """
    from kg_twin.sparql.lexer import service_targets, token_views

    views, error = token_views(text)
    # SERVICE targets from every view (raw and escape-processed), like the update checks
    services: list[str] = service_targets(text, base)
    toks = views[-1]
    pro = Prologue(base)
    form = ""
    dflt: list[str] = []
    named: list[str] = []
    depth = 0
    limit: int | None = None
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        kind = t.kind
        if kind == "PUNCT":
            if t.text == "{":
                depth += 1
            elif t.text == "}":
                depth -= 1
        elif kind == "NAME":
            up = t.upper
            if up in ("BASE", "PREFIX"):
                j = pro.feed(toks, i)
                if j > i:
                    i = j
                    continue
            elif up in _FORMS and not form:
                form = up
            elif up == "LIMIT" and depth == 0 and i + 1 < n and toks[i + 1].text.isdigit():
                limit = int(toks[i + 1].text)
            elif up == "FROM" and depth == 0 and i + 1 < n:
                if toks[i + 1].upper == "NAMED" and i + 2 < n:
                    named.append(pro.resolve(toks[i + 2]) or "")
                    i += 3
                    continue
                dflt.append(pro.resolve(toks[i + 1]) or "")
                i += 2
                continue
        i += 1
    return Analysis(form, tuple(services), tuple(dflt), tuple(named), error, limit)


def query_form(text: str) -> str:
    """SELECT / CONSTRUCT / DESCRIBE / ASK, or '' if not found.

    >>> query_form("PREFIX a: <http://a/> # c\\n construct { ?s ?p ?o } where { ?s ?p ?o }")
    'CONSTRUCT'
    """
    try:
        return analyze(text).form
    except InputError:
        return ""


def dataset_clauses(text: str, base: str | None = None) -> tuple[list[str], list[str]]:
    """IRIs of FROM and FROM NAMED clauses of a query (outside any braces).

    >>> dataset_clauses("SELECT * FROM <http://g1> FROM NAMED <http://g2> WHERE { ?s ?p ?o }")
    (['http://g1'], ['http://g2'])
    """
    a = analyze(text, base)
    return list(a.from_default), list(a.from_named)


def choose_dataset(
    op: Operation,
    allowed: "Dataset",
    may_read: Callable[[str], bool],
    base: str | None = None,
    map_name: Callable[[str], str] | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The dataset of a query: protocol parameters, else FROM clauses, else the endpoint's dataset.

    ``map_name`` turns the FROM clauses' graph names into stored names (protocol parameters come
    mapped). Every named graph must pass ``may_read`` (by namespace, not existence), otherwise 403.
    """
    dflt, named = op.default_graph_uri, op.named_graph_uri
    if not dflt and not named:
        dflt, named = dataset_clauses(op.text, base)
        if map_name is not None:
            dflt, named = [map_name(g) for g in dflt], [map_name(g) for g in named]
    if not dflt and not named:
        return tuple(allowed.default_graphs or ()), tuple(allowed.named_graphs or ())
    for g in list(dflt) + list(named):
        if not may_read(g):
            raise Forbidden("GRAPH_NOT_ALLOWED", f"graph <{g}> is not readable from this endpoint", hint="name graphs of the projects you may read")
    return tuple(dflt), tuple(named)
