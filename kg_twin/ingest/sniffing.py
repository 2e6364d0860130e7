"""Format detection by content: what a file *is*, from its parsed structure, never from a byte window.

* JSON: :func:`json_top` scans the whole text for the top-level object's keys and its ``"type"``
  (CityJSON may put ``"type": "CityJSON"`` after a megabyte of vertices) and says whether the text
  ends where the JSON ends (a cut file is *truncated*, not "unknown").
* XML: :func:`xml_root` parses up to the root element's start tag (namespace, local name).
* STEP (IFC): :func:`step_header` reads the ``ISO-10303-21;`` header; the trailer and the references
  are checked by :mod:`kg_twin.ingest.readers.step`.

The scans run in C (``re`` over a memory map), results are cached per (path, size, mtime), so every
reader can ask without reading the file twice.

>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> p = Path(d, "x.json")
>>> _ = p.write_text('{"vertices": [[1, 2, 3]], "nested": {"type": "Building"}, "type": "CityJSON"}')
>>> t = json_top(p)
>>> t.type, sorted(t.keys), t.complete
('CityJSON', ['nested', 'type', 'vertices'], True)
>>> _ = p.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat')
>>> t = json_top(p)
>>> t.type, t.complete, t.truncated
('FeatureCollection', False, True)
"""

from __future__ import annotations

import mmap
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lxml import etree

from kg_twin.errors import InputError

# a JSON string, or one structural character
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')
_WS = b" \t\r\n"


@dataclass(frozen=True)
class JsonTop:
    """What the top level of a JSON text is."""

    is_json: bool  # starts like a JSON object or array
    kind: str = ""  # "object" | "array" | ""
    keys: frozenset[str] = field(default_factory=frozenset)  # top-level object keys
    type: str | None = None  # the top-level "type" member, when it is a string
    complete: bool = False  # the outermost value is closed
    trailing: bool = False  # non-blank bytes after the outermost value (JSON text sequences)

    @property
    def truncated(self) -> bool:
        return self.is_json and not self.complete


def _stamp(path: Path) -> tuple[str, int, int]:
    st = os.stat(path)
    return str(Path(path).resolve()), st.st_size, st.st_mtime_ns


def json_top(path: Path) -> JsonTop:
    """Top-level keys and ``type`` of the JSON text in ``path`` (whole file scanned, in C)."""
    return _json_top(*_stamp(path))


@lru_cache(maxsize=64)
def _json_top(path: str, size: int, mtime: int) -> JsonTop:
    if size == 0:
        return JsonTop(False)
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        start = 0
        if mm[:3] == b"\xef\xbb\xbf":
            start = 3
        while start < size and mm[start : start + 1] in (b" ", b"\t", b"\r", b"\n", b"\x1e"):
            start += 1
        first = mm[start : start + 1]
        if first not in (b"{", b"["):
            return JsonTop(False)
        kind = "object" if first == b"{" else "array"
        depth = 0
        keys: set[str] = set()
        typ: str | None = None
        expect_key = False
        last_key: str | None = None
        after_colon = False
        end = -1
        for m in _JSON_TOKEN.finditer(mm, start):
            tok = m.group()
            c = tok[:1]
            if c == b'"':
                if depth == 1 and kind == "object":
                    if expect_key:
                        last_key = _decode(tok)
                        keys.add(last_key)
                        expect_key = False
                    elif after_colon and last_key == "type" and typ is None:
                        typ = _decode(tok)
                after_colon = False
            elif c in (b"{", b"["):
                depth += 1
                expect_key = depth == 1 and c == b"{"
                after_colon = False
            elif c in (b"}", b"]"):
                depth -= 1
                after_colon = False
                if depth == 0:
                    end = m.end()
                    break
            elif c == b":":
                after_colon = depth == 1
            elif c == b",":
                expect_key = depth == 1 and kind == "object"
                after_colon = False
        complete = end >= 0
        trailing = complete and bool(mm[end:].strip(_WS + b"\x1e"))
        return JsonTop(True, kind, frozenset(keys), typ, complete, trailing)


def _decode(tok: bytes) -> str:
    try:
        import json

        return str(json.loads(tok))
    except ValueError:
        return tok[1:-1].decode("utf-8", "replace")


@dataclass(frozen=True)
class XmlRoot:
    namespace: str  # "" when the root has no namespace
    local: str
    error: str | None = None  # why no root start tag could be parsed


def xml_root(path: Path) -> XmlRoot | None:
    """Namespace and local name of the root element (None: the file does not start like XML)."""
    return _xml_root(*_stamp(path))


@lru_cache(maxsize=64)
def _xml_root(path: str, size: int, mtime: int) -> XmlRoot | None:
    with open(path, "rb") as fh:
        head = fh.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return None
    try:
        for _ev, el in etree.iterparse(path, events=("start",), resolve_entities=False, no_network=True, huge_tree=False):
            q = etree.QName(el)
            return XmlRoot(q.namespace or "", q.localname)
    except etree.XMLSyntaxError as e:
        return XmlRoot("", "", f"not well-formed XML before the root element: {e}")
    return XmlRoot("", "", "no root element")


def step_header(head: bytes) -> str | None:
    """The FILE_SCHEMA of a STEP file's header (``IFC2X3``, ``IFC4`` ...), or None when ``head`` does
    not start with ``ISO-10303-21;``.

    >>> step_header(b"ISO-10303-21;\\nHEADER;\\nFILE_SCHEMA(('IFC4'));\\nENDSEC;")
    'IFC4'
    >>> step_header(b"#1=IFCPROJECT();") is None
    True
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"ISO-10303-21;"):
        return None
    m = re.search(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", text)
    return m.group(1).decode("ascii", "replace").strip() if m else ""


def truncated_json_error(path: Path, what: str) -> InputError | None:
    """An ``InputError`` naming ``path`` as truncated when its JSON text ends before its outermost
    value does (a cut download, a full disk), else None.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp(), "cut.json")
    >>> _ = p.write_text('{"type": "CityJSON", "CityObjects": {"a": {')
    >>> truncated_json_error(p, "CityJSON").code
    'TRUNCATED_FILE'
    """
    top = json_top(path)
    if not top.truncated:
        return None
    size = os.stat(path).st_size
    return InputError(
        "TRUNCATED_FILE",
        f"{Path(path).name}: the {what} file is truncated: its JSON ends at byte {size} before the top-level "
        f"{top.kind} is closed (keys read: {', '.join(sorted(top.keys)) or 'none'})",
        where={"file": Path(path).name, "byte": size},
        hint="the file was cut (interrupted download or copy): fetch or export it again; nothing was published",
    )
