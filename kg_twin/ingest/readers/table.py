"""Read CSV / TSV / XLSX tables (asset registers, point lists) into records.

* Encoding: a BOM decides (UTF-8, UTF-16); otherwise the text must be UTF-8, or the encoding
  given by the caller (``encoding="latin-1"``). A byte that does not decode raises
  :class:`InputError` naming the file, the row and the offending bytes - never a silent guess.
* Delimiter: sniffed among ``, ; TAB |`` on the first lines (``.tsv`` prefers TAB); cells are
  trimmed, so padded tables (``A,     A_ts``) read cleanly.
* Header: the first non-empty row. Duplicate / empty header cells get a suffix / a ``colN`` name.
* Rows: one :class:`Record` per data row, ``origin.row`` = the 1-based line of the file
  (header = row 1) or the sheet row in XLSX (``origin.element`` = the sheet).
  A row with more cells than the header or an unterminated quote becomes a :class:`Reject`
  with the reason; the other rows are still read. A file cut in the middle of its last row
  raises ``InputError TRUNCATED_FILE`` (or, with ``on_truncated="reject"``, rejects that row).

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "points.csv"
>>> _ = p.write_text("name,room\\nZN-T,RM101\\nSA-T,RM102,extra\\n")
>>> [type(r).__name__ for r in read_table(p)]
['Record', 'Reject']
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any, Iterator, Union

from kg_twin.errors import InputError
from kg_twin.models import Origin, Record, Reject

DELIMITERS = [",", ";", "\t", "|"]
TEXT_EXTENSIONS = (".csv", ".tsv", ".tab", ".txt")
XLSX_EXTENSIONS = (".xlsx", ".xlsm")

HEAD_ROWS = 30  # rows looked at to find the header


def detect_encoding(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, int]:
    """Return (encoding, bytes to skip). Raises InputError if the text does not decode."""
    if encoding:
        enc, skip = encoding, 0
    elif data.startswith(codecs.BOM_UTF8):
        enc, skip = "utf-8", 3
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        enc, skip = "utf-16", 0
    else:
        enc, skip = "utf-8", 0
    try:
        data[skip:].decode(enc)
    except UnicodeDecodeError as e:
        start = e.start + skip
        row = data[:start].count(b"\n") + 1
        bad = data[start : start + 4]
        raise InputError(
            "BAD_ENCODING",
            f"{path.name}: row {row} is not valid {enc} (bytes {bad!r} at offset {start})",
            hint="pass the encoding, e.g. --encoding latin-1 or cp1252 (with --dry-run too; API: encoding=latin-1), or set read: {encoding: ...} in the mapping, or save the file as UTF-8",
            where={"file": path.name, "row": row},
        ) from None
    except LookupError:
        raise InputError("BAD_ENCODING", f"unknown encoding {enc!r}", hint="use a Python codec name such as utf-8, latin-1, cp1252") from None
    return enc, skip


def sniff_delimiter(sample: str, suffix: str = "") -> str:
    """The delimiter that splits most lines into the same number of cells (title lines ignored)."""
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    default = "\t" if suffix in (".tsv", ".tab") else ","
    if not lines:
        return default
    best, best_score = default, -1.0
    for d in DELIMITERS:
        counts = [len(next(csv.reader([ln], delimiter=d))) - 1 for ln in lines]
        mode, n = Counter(c for c in counts if c > 0).most_common(1)[0] if any(counts) else (0, 0)
        if mode == 0:
            continue
        score = n / len(lines) * 10 + min(mode, 9) / 10
        if suffix in (".tsv", ".tab") and d == "\t":
            score += 5
        if score > best_score:
            best, best_score = d, score
    return best


def header_index(head: list[tuple[int, list[Any]]], header_row: int | None, *, file: str, sheet: str | None = None) -> int:
    """Index in ``head`` ((row number, cells) of the first non-empty rows) of the header row: the
    one the caller names (``header_row``: a text line, or a sheet row), else :func:`pick_header`'s guess."""
    where = f"{file}: sheet {sheet!r}" if sheet is not None else file
    if not head:
        raise InputError("EMPTY_TABLE", f"{where} has no header row", where={"file": file})
    if header_row is None:
        return pick_header([cells for _, cells in head])
    idx = next((i for i, (num, _) in enumerate(head) if num == header_row), None)
    if idx is None:
        unit = "row" if sheet is not None else "line"
        raise InputError("BAD_HEADER_ROW", f"{where}: {unit} {header_row} is empty or beyond the first rows", where={"file": file, "row": header_row})
    return idx


def pick_header(rows: list[list[Any]]) -> int:
    """Index of the header among the first rows: the first row about as wide as the data rows.

    Title lines above a table ("Point list - Building A", an export date) are narrower; they are
    skipped. ``rows`` are the first non-empty rows of the table.
    """
    widths = [sum(1 for c in r if c is not None and str(c).strip()) for r in rows]
    if not widths:
        return 0
    data_width = Counter(widths[1:] or widths).most_common(1)[0][0]
    for i, w in enumerate(widths):
        if w >= max(1, 0.6 * data_width):
            return i
    return 0


def _header(cells: list[str]) -> list[str]:
    out: list[str] = []
    for i, c in enumerate(cells, start=1):
        name = (c or "").strip() or f"col{i}"
        base, n = name, 2
        while name in out:
            name = f"{base}_{n}"
            n += 1
        out.append(name)
    return out


def _cell(v: Any) -> Any:
    if isinstance(v, str):
        v = v.strip()
        return v if v != "" else None
    return v


def read_text_table(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
    on_truncated: str = "error",
) -> Iterator[Union[Record, Reject]]:
    """Rows of a CSV / TSV file (see the module doc).

    A file that ends in the middle of a row (no final newline and a short last row, or an open
    quote) raises ``InputError TRUNCATED_FILE`` before any row is returned, unless
    ``on_truncated="reject"``: then that row becomes a ``TRUNCATED_ROW`` reject.
    """
    if on_truncated not in ("error", "reject"):
        raise InputError("BAD_OPTION", f"on_truncated must be 'error' or 'reject', not {on_truncated!r}")
    data = path.read_bytes()
    if not data.strip():
        raise InputError("EMPTY_TABLE", f"{path.name} is empty", hint="export the table with a header row and at least one data row", where={"file": path.name})
    enc, skip = detect_encoding(data, path, encoding)
    text = data[skip:].decode(enc)
    truncated = not text.endswith(("\n", "\r"))
    last_line = text.count("\n") + (1 if truncated else 0)
    delim = delimiter or sniff_delimiter(text[:65536], path.suffix.lower())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)

    def rows() -> Iterator[tuple[int, int, list[str] | None, str | None]]:
        """(first line, last line, cells or None, error) of every non-empty row."""
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                yield start, reader.line_num, None, str(e)
                continue
            if any(c.strip() for c in cells):
                yield start, reader.line_num, cells, None

    all_rows = list(rows())  # the text is in memory already; a truncated end is known before any row is returned
    head = all_rows[:HEAD_ROWS]
    idx = header_index([(it[0], it[2] or []) for it in head], header_row, file=path.name)
    start, _, cells, err = head[idx]
    if cells is None:
        raise InputError("BAD_TABLE", f"{path.name}: cannot read the header row: {err}", where={"file": path.name, "row": start}, hint="check the quoting of that line")
    header = _header(cells)

    body = all_rows[idx + 1 :]
    if truncated and body:
        start, end, cells, err = body[-1]
        if end >= last_line and (cells is None or len(cells) < len(header)) and on_truncated == "error":
            what = f"an open quote ({err})" if cells is None else f"{len(cells)} of {len(header)} cells"
            raise InputError(
                "TRUNCATED_FILE",
                f"{path.name} ends in the middle of row {start} ({what}, no final newline): the file looks truncated",
                hint="export the file again; to keep the complete rows and reject the cut one, add 'read: {on_truncated: reject}' to the mapping",
                where={"file": path.name, "row": start},
            )

    for start, end, cells, err in body:
        origin = Origin(file=path.name, row=start)
        if cells is None:
            if truncated and end >= last_line:
                yield Reject(origin=origin, code="TRUNCATED_ROW", reason=f"the file ends inside this row ({err})", hint="export the file again")
            else:
                yield Reject(origin=origin, code="BAD_ROW", reason=f"unreadable row: {err}", hint="check the quotes in this row")
            continue
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            yield Reject(origin=origin, code="TOO_MANY_CELLS", reason=f"row has {len(cells)} cells, the header has {len(header)}", hint=f"check for an unquoted {delim!r} inside a value")
            continue
        if len(cells) < len(header) and truncated and end >= last_line:
            yield Reject(origin=origin, code="TRUNCATED_ROW", reason=f"last row has {len(cells)} of {len(header)} cells and the file has no final newline: the file looks truncated", hint="export the file again")
            continue
        yield Record(kind="row", fields={h: _cell(cells[i]) if i < len(cells) else None for i, h in enumerate(header)}, origin=origin)


def read_xlsx(path: Path, *, sheet: str | None = None, header_row: int | None = None) -> Iterator[Union[Record, Reject]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise InputError(
            "BAD_XLSX",
            f"{path.name} is not a readable XLSX workbook ({type(e).__name__}: {e})",
            hint="the file may be truncated or not an .xlsx: open it in a spreadsheet program and save it again as .xlsx",
            where={"file": path.name},
        ) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise InputError("NO_SUCH_SHEET", f"{path.name} has no sheet {sheet!r}", hint="sheets: " + ", ".join(wb.sheetnames), where={"file": path.name})
        ws = wb[sheet] if sheet else wb.worksheets[0]
        try:
            stream = (
                (rownum, list(values))
                for rownum, values in enumerate(ws.iter_rows(values_only=True), start=1)
                if any(c is not None and str(c).strip() for c in values)
            )
            head: list[tuple[int, list[Any]]] = []
            for item in stream:
                head.append(item)
                if len(head) >= HEAD_ROWS:
                    break
            idx = header_index(head, header_row, file=path.name, sheet=ws.title)
            header = _header([str(c) if c is not None else "" for c in head[idx][1]])
            for rownum, cells in [*head[idx + 1 :], *stream]:
                origin = Origin(file=path.name, row=rownum, element=f"sheet {ws.title}")
                if len(cells) > len(header) and any(c is not None and str(c).strip() for c in cells[len(header) :]):
                    yield Reject(origin=origin, code="TOO_MANY_CELLS", reason=f"row has values beyond the {len(header)} header columns")
                    continue
                yield Record(kind="row", fields={h: _cell(cells[i]) if i < len(cells) else None for i, h in enumerate(header)}, origin=origin)
        except (zipfile.BadZipFile, EOFError, KeyError, ValueError) as e:
            raise InputError("BAD_XLSX", f"{path.name}: the sheet {ws.title!r} cannot be read ({e})", hint="the file may be truncated: save it again as .xlsx", where={"file": path.name}) from None
    finally:
        wb.close()


def read_table(path: Path, **options: Any) -> Iterator[Union[Record, Reject]]:
    path = Path(path)
    if path.suffix.lower() in XLSX_EXTENSIONS:
        return read_xlsx(path, sheet=options.get("sheet"), header_row=options.get("header_row"))
    return read_text_table(
        path,
        encoding=options.get("encoding"),
        delimiter=options.get("delimiter"),
        header_row=options.get("header_row"),
        on_truncated=options.get("on_truncated") or "error",
    )


_TEXTY = re.compile(rb"^[\x09\x0a\x0d\x20-\x7e\x80-\xff]*$")


def sniff_table(path: Path, head: bytes) -> float:
    suffix = path.suffix.lower()
    if suffix in XLSX_EXTENSIONS:
        return 0.95 if head.startswith(b"PK") else 0.3
    if suffix in (".csv", ".tsv", ".tab"):
        return 0.9
    if suffix == ".txt" and head and _TEXTY.match(head[:4096]):
        lines = head.decode("utf-8", "replace").splitlines()[:5]
        if len(lines) >= 2 and sniff_delimiter("\n".join(lines), suffix) in "".join(lines):
            return 0.5
    return 0.0
