"""Bounds on what a client's text may make a parser do, checked before the parser sees it.

pyoxigraph's SPARQL and JSON-LD parsers recurse on the native stack: a SPARQL text nested ~2,200
braces deep or a JSON-LD document ~10,000 objects deep kills the whole process (SIGSEGV), which no
``except`` can catch. Python's own parsers (json, PyYAML) raise ``RecursionError`` instead, and a
YAML alias bomb of a few hundred bytes expands to gigabytes when the data is walked. So every
entry point that hands client text to a parser calls one of the checks here first:

* :func:`check_sparql`  queries, updates, SHACL-SPARQL, named queries, rules (size + nesting)
* :func:`load_json`     JSON request bodies (nesting, then ``json.loads``)
* :func:`check_rdf`     JSON-LD and RDF/XML documents (nesting; Turtle/N-Triples parse iteratively)
* :func:`load_yaml`     mappings, named-query decorators (nesting + node count after alias expansion)

Over a limit: ``PayloadTooLarge`` (413) for sizes, ``InputError`` (400) for nesting / expansion,
both naming the limit and the ``KG_TWIN_*`` setting that raises it. Measured limits and their
defaults are in ``docs/security.md``.

>>> check_sparql("SELECT * { ?s ?p ?o }")
>>> check_sparql("ASK " + "{" * 100 + "}" * 100)
Traceback (most recent call last):
...
kg_twin.errors.InputError: [SPARQL_TOO_DEEP] SPARQL text nested 100 levels deep; the limit is 64
  hint: simplify the nesting, or raise KG_TWIN_MAX_SPARQL_DEPTH
>>> load_json(b'{"a": [1, {"b": 2}]}')
{'a': [1, {'b': 2}]}
>>> load_yaml("a: &x [1, 2]\\nb: *x")
{'a': [1, 2], 'b': [1, 2]}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import IO, Any

from kg_twin.errors import InputError, PayloadTooLarge


@dataclass(frozen=True)
class Limits:
    """The parsing limits of one deployment (see :meth:`of` for the settings they come from)."""

    sparql_depth: int = 64  # KG_TWIN_MAX_SPARQL_DEPTH
    nesting_depth: int = 256  # KG_TWIN_MAX_NESTING_DEPTH (JSON, JSON-LD, RDF/XML, YAML)
    yaml_nodes: int = 100_000  # KG_TWIN_MAX_YAML_NODES (after alias expansion)
    query_bytes: int = 1_000_000  # KG_TWIN_MAX_QUERY_BYTES
    json_bytes: int = 16 * 1024**2  # KG_TWIN_MAX_JSON_BYTES

    @classmethod
    def of(cls, settings: Any) -> "Limits":
        return cls(
            sparql_depth=settings.max_sparql_depth,
            nesting_depth=settings.max_nesting_depth,
            yaml_nodes=settings.max_yaml_nodes,
            query_bytes=settings.max_query_bytes,
            json_bytes=settings.max_json_bytes,
        )


DEFAULT = Limits()


def _too_deep(code: str, what: str, depth: int, limit: int, setting: str) -> InputError:
    return InputError(
        code,
        f"{what} nested {depth} levels deep; the limit is {limit}",
        hint=f"simplify the nesting, or raise {setting}",
        errors=[{"limit": setting, "value": limit, "found": depth}],
    )


# ---------------------------------------------------------------- SPARQL
def check_sparql(text: str, limits: Limits = DEFAULT, *, what: str = "SPARQL text") -> None:
    """Refuse a SPARQL text over the size (413) or nesting (400) limit, before any engine parses it.

    Used by every path that hands client SPARQL to an engine: the protocol endpoints, updates,
    SHACL-SPARQL in shapes, named queries, rules.
    """
    from kg_twin.sparql.lexer import nesting_depth

    size = len(text.encode("utf-8"))
    if size > limits.query_bytes:
        raise PayloadTooLarge(
            "QUERY_TOO_LARGE",
            f"{what} is {size} bytes; the limit is {limits.query_bytes}",
            hint="simplify the query, or raise KG_TWIN_MAX_QUERY_BYTES",
            errors=[{"limit": "KG_TWIN_MAX_QUERY_BYTES", "value": limits.query_bytes, "found": size}],
        )
    depth = nesting_depth(text)
    if depth > limits.sparql_depth:
        raise _too_deep("SPARQL_TOO_DEEP", what, depth, limits.sparql_depth, "KG_TWIN_MAX_SPARQL_DEPTH")


# ---------------------------------------------------------------- JSON / JSON-LD
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]|"', re.S)
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class _JsonDepth:
    """Incremental JSON nesting counter (strings skipped), fed in chunks of any size."""

    def __init__(self) -> None:
        self.depth = 0
        self.deepest = 0
        self.carry = b""

    def feed(self, chunk: bytes, final: bool = False) -> None:
        data = self.carry + chunk
        self.carry = b""
        steps = []
        for m in _JSON_TOKEN.finditer(data):
            tok = m.group(0)
            if tok[0] == 0x22:  # '"'
                if len(tok) == 1 and not final:  # a string that goes on in the next chunk
                    self.carry = data[m.start():]
                    break
                continue
            steps.append(_STEP[tok[0]])
        if steps:
            levels = list(accumulate(steps, initial=self.depth))
            self.deepest = max(self.deepest, max(levels))
            self.depth = levels[-1]


def json_depth(data: bytes | str) -> int:
    """Deepest nesting of arrays/objects in a JSON text (a linear scan; strings do not count).

    >>> json_depth(b'[1, {"a": "[[[["}, [[2]]]')
    3
    """
    counter = _JsonDepth()
    counter.feed(data.encode("utf-8") if isinstance(data, str) else data, final=True)
    return counter.deepest


def load_json(body: bytes | str, limits: Limits = DEFAULT, *, what: str = "request body") -> Any:
    """``json.loads`` after the size and nesting checks; malformed JSON is a 400 ``BAD_JSON``."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > limits.json_bytes:
        raise PayloadTooLarge(
            "JSON_TOO_LARGE",
            f"{what} is {len(raw)} bytes of JSON; the limit is {limits.json_bytes}",
            hint="send smaller batches, or raise KG_TWIN_MAX_JSON_BYTES",
            errors=[{"limit": "KG_TWIN_MAX_JSON_BYTES", "value": limits.json_bytes, "found": len(raw)}],
        )
    depth = json_depth(raw)
    if depth > limits.nesting_depth:
        raise _too_deep("JSON_TOO_DEEP", what, depth, limits.nesting_depth, "KG_TWIN_MAX_NESTING_DEPTH")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError("BAD_JSON", f"{what} is not valid JSON: {e}", hint="send a JSON document (Content-Type: application/json)") from None


# ---------------------------------------------------------------- RDF/XML
_XML_TOKEN = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<[?!][^>]*>|</[^>]*>|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>|<", re.S)


class _XmlDepth:
    def __init__(self) -> None:
        self.depth = 0
        self.deepest = 0
        self.carry = b""

    def feed(self, chunk: bytes, final: bool = False) -> None:
        data = self.carry + chunk
        self.carry = b""
        for m in _XML_TOKEN.finditer(data):
            tok = m.group(0)
            if len(tok) == 1 or (not final and m.end() == len(data)):  # a tag cut by the chunk end
                if not final:
                    self.carry = data[m.start():]
                    break
                continue
            if tok.startswith(b"</"):
                self.depth -= 1
            elif tok[1:2] in (b"?", b"!") or tok.endswith(b"/>"):
                continue
            else:
                self.depth += 1
                self.deepest = max(self.deepest, self.depth)


def xml_depth(data: bytes | str) -> int:
    """Deepest element nesting of an XML text.

    >>> xml_depth(b'<?xml version="1.0"?><a x="1>2"><b/><c><!-- <d> --><e></e></c></a>')
    3
    """
    counter = _XmlDepth()
    counter.feed(data.encode("utf-8") if isinstance(data, str) else data, final=True)
    return counter.deepest


_CHUNK = 4 * 1024**2


def check_rdf(data: bytes | str | Path, fmt: str, limits: Limits = DEFAULT, *, what: str = "RDF document") -> None:
    """Refuse a JSON-LD or RDF/XML document nested deeper than the limit (other formats pass:
    pyoxigraph parses Turtle, TriG, N-Triples and N-Quads without recursion). ``data`` may be a
    path (a spooled upload), read in 4 MiB pieces."""
    if fmt in ("json-ld", "jsonld"):
        counter: _JsonDepth | _XmlDepth = _JsonDepth()
    elif fmt in ("rdfxml", "rdf-xml", "xml", "application/rdf+xml"):
        counter = _XmlDepth()
    else:
        return
    if isinstance(data, Path):
        with open(data, "rb") as fh:
            _feed_file(counter, fh)
    else:
        counter.feed(data.encode("utf-8") if isinstance(data, str) else data, final=True)
    if counter.deepest > limits.nesting_depth:
        raise _too_deep("RDF_TOO_DEEP", what, counter.deepest, limits.nesting_depth, "KG_TWIN_MAX_NESTING_DEPTH")


def _feed_file(counter: "_JsonDepth | _XmlDepth", fh: IO[bytes]) -> None:
    while True:
        chunk = fh.read(_CHUNK)
        if not chunk:
            counter.feed(b"", final=True)
            return
        counter.feed(chunk)


# ---------------------------------------------------------------- YAML
def load_yaml(text: str, limits: Limits = DEFAULT, *, what: str = "YAML document", loader: Any = None) -> Any:
    """Parse YAML (``SafeLoader`` unless told) after bounding its nesting and its size once aliases
    are expanded: ``&a [*b, *b, ...]`` chains of a few hundred bytes stand for billions of nodes.
    YAML syntax errors propagate as ``yaml.YAMLError`` (callers add the file and line)."""
    import yaml

    cls = loader or yaml.SafeLoader
    ldr = cls(text)
    try:
        try:
            node = ldr.get_single_node()
        except RecursionError:  # PyYAML's composer recurses: a few hundred levels exhaust Python's stack
            raise InputError(
                "YAML_TOO_DEEP",
                f"{what} is nested deeper than the YAML parser can follow (the limit is {limits.nesting_depth})",
                hint="simplify the nesting",
                errors=[{"limit": "KG_TWIN_MAX_NESTING_DEPTH", "value": limits.nesting_depth}],
            ) from None
        if node is None:
            return None
        _bound_yaml(node, limits, what)
        return ldr.construct_document(node)
    finally:
        ldr.dispose()


def _bound_yaml(root: Any, limits: Limits, what: str) -> None:
    """Expanded node count (memoised per shared node) and depth of a composed YAML tree."""
    import yaml

    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    # iterative post-order walk: nothing here recurses on the Python stack
    stack: list[tuple[Any, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children: list[Any] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [x for pair in node.value for x in pair]
        if not done:
            if key in on_path:  # a recursive alias (&a [*a]): infinite when expanded
                raise InputError("YAML_TOO_LARGE", f"{what} refers to itself through an alias", hint="YAML aliases must not contain themselves")
            on_path.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        on_path.discard(key)
        size = 1 + sum(sizes[id(c)] for c in children)
        depth = 1 + max((depths[id(c)] for c in children), default=0)
        if size > limits.yaml_nodes:
            raise InputError(
                "YAML_TOO_LARGE",
                f"{what} expands to more than {limits.yaml_nodes} nodes (aliases included)",
                hint="write the values out instead of repeating aliases, or raise KG_TWIN_MAX_YAML_NODES",
                errors=[{"limit": "KG_TWIN_MAX_YAML_NODES", "value": limits.yaml_nodes}],
            )
        if depth > limits.nesting_depth:
            raise _too_deep("YAML_TOO_DEEP", what, depth, limits.nesting_depth, "KG_TWIN_MAX_NESTING_DEPTH")
        sizes[key] = size
        depths[key] = depth
