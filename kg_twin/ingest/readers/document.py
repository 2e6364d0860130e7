"""Any file as a document: DCAT / Dublin Core metadata, checksum, links to the assets it is about.

The reader yields one ``kind="document"`` record::

    name, size, sha256, media_type (+ media_type_source: magic bytes / extension), mtime (ISO, UTC)
    title / created / modified / pages / author  (PDF document information via pypdf; Office Open XML
                                                 core properties of .docx / .xlsx / .pptx)
    width / height                               (PNG, JPEG, GIF pixel size)
    candidates                                   identifiers the file name suggests, longest first
    tokens                                       identifier-like words of the text (PDF text, text files)

File-name convention for links: the stem and its leading ``_``/space-separated parts are candidate
identifiers: ``AHU-1_manual.pdf`` -> ``AHU-1_manual``, ``AHU-1``; ``2O2Fr$t4X7Zf8NOew3FKau.pdf`` -> the
IFC GlobalId. ``propose`` asks the pipeline's lookup (``ctx.options["lookup"]``: a callable
``str -> list[IRI]`` answering "which entities of the project have this label / identifier / GlobalId")
and writes the links it finds, each with a confidence, into the mapping; ``map`` emits the accepted ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import re
import struct
import zipfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

from kg_twin.ingest.base import MapContext, RecordSource, Triple, register
from kg_twin.models import Origin, Record, Reject

_MAGIC: list[tuple[bytes, int, str]] = [
    (b"%PDF-", 0, "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
    (b"%!PS", 0, "application/postscript"),
    (b"ISO-10303-21", 0, "application/x-step"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "application/x-ole-storage"),
    (b"AC10", 0, "image/vnd.dwg"),
]
_OOXML = {"word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}
_PDF_DATE = re.compile(r"^D?:?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+\-])?(\d{2})?'?(\d{2})?'?$")
_SPLIT = re.compile(r"[_ ]+")
_TOKEN = re.compile(r"[A-Za-z0-9$][A-Za-z0-9_$.\-/]{1,63}")
_GLOBALID = re.compile(r"[0-3][0-9A-Za-z_$]{21}")
MAX_TEXT_PAGES = 200  # pages of a PDF scanned for identifiers
MAX_TOKENS = 5000  # distinct identifier-like words kept per document


def sniff_media_type(path: Path, head: bytes) -> tuple[str, str]:
    """(media type, how it was found).

    >>> sniff_media_type(Path("x.bin"), b"%PDF-1.7 ...")
    ('application/pdf', 'magic bytes')
    >>> sniff_media_type(Path("notes.md"), b"# Title")
    ('text/markdown', 'extension')
    """
    for magic, off, mt in _MAGIC:
        if head[off : off + len(magic)] == magic:
            return mt, "magic bytes"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "magic bytes"
    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
            for prefix, mt in _OOXML.items():
                if any(n.startswith(prefix) for n in names):
                    return mt, "zip content"
        except (zipfile.BadZipFile, OSError):
            pass
        return "application/zip", "magic bytes"
    stripped = head.lstrip()[:512].lower()
    if stripped.startswith(b"<svg") or (stripped.startswith(b"<?xml") and b"<svg" in stripped):
        return "image/svg+xml", "content"
    ext = path.suffix.lower()
    extra = {".md": "text/markdown", ".geojson": "application/geo+json", ".ifc": "application/x-step",
             ".ttl": "text/turtle", ".nt": "application/n-triples", ".yml": "application/yaml", ".yaml": "application/yaml"}
    guessed = extra.get(ext) or mimetypes.guess_type(path.name)[0]
    if guessed:
        return guessed, "extension"
    try:
        head.decode("utf-8")
        return "text/plain", "content (UTF-8 text)"
    except UnicodeDecodeError:
        return "application/octet-stream", "unknown"


def pdf_date(value: Any) -> str | None:
    """PDF date string (``D:20201001142838+02'00'``) -> ISO 8601; None when unparsable.

    >>> pdf_date("D:20201001142838+02'00'")
    '2020-10-01T14:28:38+02:00'
    >>> pdf_date("D:2019")
    '2019-01-01T00:00:00'
    """
    if not value:
        return None
    m = _PDF_DATE.match(str(value).strip())
    if not m:
        return None
    y, mo, d, h, mi, s, tz, tzh, tzm = m.groups()
    try:
        t = dt.datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError:
        return None
    out = t.isoformat()
    if tz in ("Z", "z"):
        out += "Z"
    elif tz in ("+", "-") and tzh:
        out += f"{tz}{tzh}:{tzm or '00'}"
    return out


def image_size(head: bytes, data_path: Path, media_type: str) -> tuple[int, int] | None:
    if media_type == "image/png" and len(head) >= 24:
        w, h = struct.unpack(">II", head[16:24])
        return w, h
    if media_type == "image/gif" and len(head) >= 10:
        w, h = struct.unpack("<HH", head[6:10])
        return w, h
    if media_type == "image/jpeg":
        with open(data_path, "rb") as fh:
            fh.read(2)
            while True:
                marker = fh.read(2)
                if len(marker) < 2 or marker[0] != 0xFF:
                    return None
                if marker[1] in (0xD8, 0x01) or 0xD0 <= marker[1] <= 0xD7:
                    continue
                seg = fh.read(2)
                if len(seg) < 2:
                    return None
                (length,) = struct.unpack(">H", seg)
                if length < 2:  # corrupt segment length: stop rather than seek backwards
                    return None
                if marker[1] in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                    body = fh.read(5)
                    if len(body) < 5:
                        return None
                    h, w = struct.unpack(">HH", body[1:5])
                    return w, h
                fh.seek(length - 2, 1)
    return None


def name_candidates(name: str) -> list[str]:
    """Identifiers a file name suggests, longest first: the stem, then its leading parts.

    >>> name_candidates("AHU-1_manual.pdf")
    ['AHU-1_manual', 'AHU-1']
    >>> name_candidates("2O2Fr$t4X7Zf8NOew3FKau.pdf")
    ['2O2Fr$t4X7Zf8NOew3FKau']
    """
    stem = Path(name).stem.strip()
    parts = [p for p in _SPLIT.split(stem) if p]
    seps = _SPLIT.findall(stem)
    out = [stem]
    for k in range(len(parts) - 1, 0, -1):
        cand = parts[0]
        for i in range(1, k):
            cand += seps[i - 1] + parts[i]
        if cand not in out:
            out.append(cand)
    return [c for c in out if c]


def name_parts(name: str) -> list[str]:
    """The other single parts of a file name (weaker evidence: proposed for review only).

    >>> name_parts("manual_AHU-1_2019.pdf")
    ['AHU-1', '2019']
    """
    parts = [p for p in _SPLIT.split(Path(name).stem.strip()) if p]
    return [p for p in parts[1:] if p not in name_candidates(name)]


def _pdf_info(path: Path) -> dict[str, Any]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        r = PdfReader(str(path))
        info: dict[str, Any] = {"pages": len(r.pages)}
        meta = r.metadata
    except (PdfReadError, ValueError, KeyError, OSError, TypeError) as e:
        return {"metadata_error": f"PDF metadata unreadable: {e}"}
    if meta:
        for key, field in (("/Title", "title"), ("/Author", "author"), ("/Subject", "subject")):
            v = meta.get(key)
            if v and str(v).strip():
                info[field] = str(v).strip()
        for key, field in (("/CreationDate", "created"), ("/ModDate", "modified")):
            d = pdf_date(meta.get(key))
            if d:
                info[field] = d
    texts = []
    for page in r.pages[:MAX_TEXT_PAGES]:
        try:
            texts.append(page.extract_text() or "")
        except (PdfReadError, ValueError, KeyError, TypeError) as e:
            info["text_error"] = f"text of a page unreadable: {e}"
            break
    info["tokens"] = identifier_tokens("\n".join(texts))
    return info


def identifier_tokens(text: str, limit: int = MAX_TOKENS) -> list[str]:
    """Identifier-like words of a text, in order of first appearance: words with a digit
    (``AHU-1``, ``A101``, ``VAV-2.03``) and 22-character IFC GlobalIds.

    >>> identifier_tokens("Replace the filter of AHU-1, then AHU-2 (room A101). See 2O2Fr$t4X7Zf8NOew3FKau.")
    ['AHU-1', 'AHU-2', 'A101', '2O2Fr$t4X7Zf8NOew3FKau']
    """
    out: dict[str, None] = {}
    for m in _TOKEN.finditer(text):
        tok = m.group(0).rstrip(".-/")
        if len(tok) >= 2 and (any(c.isdigit() for c in tok) or _GLOBALID.fullmatch(tok)):
            out.setdefault(tok, None)
            if len(out) >= limit:
                break
    return list(out)


_CORE_NS = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
}


def _ooxml_info(path: Path) -> dict[str, Any]:
    """Title, author, created / modified of a .docx / .xlsx / .pptx (``docProps/core.xml``)."""
    import xml.etree.ElementTree as ET

    try:
        with zipfile.ZipFile(path) as zf:
            if "docProps/core.xml" not in zf.namelist():
                return {}
            root = ET.fromstring(zf.read("docProps/core.xml"))
    except (zipfile.BadZipFile, ET.ParseError, OSError, KeyError) as e:
        return {"metadata_error": f"Office document properties unreadable: {e}"}
    info: dict[str, Any] = {}
    for tag, field in (("dc:title", "title"), ("dc:creator", "author")):
        el = root.find(tag, _CORE_NS)
        if el is not None and el.text and el.text.strip():
            info[field] = el.text.strip()
    for tag, field in (("dcterms:created", "created"), ("dcterms:modified", "modified")):
        el = root.find(tag, _CORE_NS)
        if el is not None and el.text:
            try:
                info[field] = dt.datetime.fromisoformat(el.text.strip().replace("Z", "+00:00")).isoformat()
            except ValueError:
                continue
    return info


class DocumentHandler(RecordSource):
    name = "document"
    extensions = (".pdf", ".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".webp", ".svg", ".docx", ".xlsx",
                  ".pptx", ".doc", ".xls", ".txt", ".md", ".dwg")

    def sniff(self, path: Path, head: bytes) -> float:
        mt, how = sniff_media_type(Path(path), head)
        if how == "magic bytes" and mt.startswith(("application/pdf", "image/")):
            return 0.9
        if mt.startswith("application/vnd.openxmlformats-officedocument.wordprocessingml") or mt.startswith("image/"):
            return 0.8
        return 0.1  # any file can be catalogued as a document

    def read(self, path: Path) -> Iterator[Union[Record, Reject]]:
        path = Path(path)
        h = hashlib.sha256()
        size = 0
        with open(path, "rb") as fh:
            head = fh.read(65536)
            h.update(head)
            size += len(head)
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
        mt, how = sniff_media_type(path, head)
        st = path.stat()
        fields: dict[str, Any] = {
            "name": path.name,
            "size": size,
            "sha256": h.hexdigest(),
            "media_type": mt,
            "media_type_source": how,
            "mtime": dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).replace(microsecond=0).isoformat(),
            "candidates": name_candidates(path.name),
            "other_parts": name_parts(path.name),
        }
        if mt == "application/pdf":
            fields.update(_pdf_info(path))
        elif mt.startswith("application/vnd.openxmlformats-officedocument."):
            fields.update(_ooxml_info(path))
        elif mt.startswith("text/") and size <= 10 * 1024 * 1024:
            fields["tokens"] = identifier_tokens(path.read_bytes().decode("utf-8", "replace"))
        elif mt.startswith("image/"):
            wh = image_size(head, path, mt)
            if wh:
                fields["width"], fields["height"] = wh
        yield Record(kind="document", fields=fields, origin=Origin(file=path.name))

    def propose(self, records: list[Record], ctx: MapContext) -> dict[str, Any]:
        from kg_twin.ingest.mappers.documents import propose_document

        return propose_document(records, ctx)

    def map(self, records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
        from kg_twin.ingest.mappers.documents import map_document

        return map_document(records, mapping, ctx)


HANDLER = register(DocumentHandler())
