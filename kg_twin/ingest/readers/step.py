"""Structural checks of a STEP physical file (ISO 10303-21: IFC) before it is read.

ifcopenshell opens a file cut in half without complaint (it reads the entities that are there), so a
partial model would be published over a complete one. :func:`check_step` refuses such a file:

* the header: the file starts with ``ISO-10303-21;`` and has ``HEADER;`` and ``DATA;`` sections;
* the trailer: the last statement is ``END-ISO-10303-21;`` after the ``ENDSEC;`` of the data section
  (a cut file is named *truncated*, with the byte where it ends);
* references: every ``#n`` used by an entity is defined in the file (no dangling reference);
* count: the number of entity instances (``#n=``) and the bytes they take (:class:`StepStats`), which
  the IFC reader compares with what ifcopenshell loaded.

Strings (``'...'``, quotes doubled inside) and comments are skipped, so a ``#`` in a name is no reference.

>>> import tempfile
>>> p = Path(tempfile.mkdtemp(), "m.ifc")
>>> _ = p.write_text("ISO-10303-21;\\nHEADER;\\nFILE_SCHEMA(('IFC4'));\\nENDSEC;\\nDATA;\\n#1=IFCA('x#9',#2);\\n#2=IFCB();\\nENDSEC;\\nEND-ISO-10303-21;\\n")
>>> check_step(p).entities
2
>>> _ = p.write_text("ISO-10303-21;\\nHEADER;\\nFILE_SCHEMA(('IFC4'));\\nENDSEC;\\nDATA;\\n#1=IFCA('x',#2);\\n#2=IFCB(#3")
>>> try:
...     check_step(p)
... except InputError as e:
...     print(e.code, e.message)
TRUNCATED_FILE m.ifc: the IFC file is truncated: it ends at byte 86 inside the DATA section, without ENDSEC; and the END-ISO-10303-21; trailer
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass
from pathlib import Path

from kg_twin.errors import InputError

_TOKENS = re.compile(rb"'(?:[^']|'')*'|/\*.*?\*/|#(\d+)\s*=|#(\d+)|ENDSEC;", re.S)
_TRAILER = b"END-ISO-10303-21;"
MAX_LISTED = 5


@dataclass(frozen=True)
class StepStats:
    entities: int  # instances defined (#n=...)
    data_bytes: int  # size of the DATA section
    schema: str


def check_step(path: Path) -> StepStats:
    """Raise :class:`InputError` (``IFC_NO_HEADER``, ``TRUNCATED_FILE``, ``IFC_DANGLING_REFERENCES``,
    ``IFC_EMPTY``) for a STEP file that is not complete; return its counts otherwise."""
    path = Path(path)
    name = path.name
    size = path.stat().st_size
    where = {"file": name}
    if size == 0:
        raise InputError("IFC_EMPTY", f"{name}: the file is empty", where=where, hint="export the model again")
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        start = 0
        while start < size and mm[start : start + 1] in (b" ", b"\t", b"\r", b"\n", b"\xef", b"\xbb", b"\xbf"):
            start += 1
        if mm[start : start + 13] != b"ISO-10303-21;":
            raise InputError("IFC_NO_HEADER", f"{name}: not a STEP file: it does not start with ISO-10303-21;",
                             where=where, hint="supply an IFC2X3, IFC4 or IFC4X3 STEP file (ISO 10303-21: it starts with "
                             "ISO-10303-21; then HEADER;): re-export it from the authoring tool")
        head = mm[start : min(size, start + 65536)]
        schema = re.search(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", head)
        data = mm.find(b"\nDATA;", start)
        if data < 0:
            data = mm.find(b"DATA;", start)
        if data < 0:
            raise InputError("TRUNCATED_FILE", f"{name}: the IFC file is truncated or incomplete: no DATA section after the header "
                             f"(the file ends at byte {size})", where=where, hint="fetch or export the file again; nothing was published")
        defined: set[int] = set()
        used: dict[int, int] = {}  # referenced id -> the byte where it is first used
        end_data = -1
        for m in _TOKENS.finditer(mm, data):
            if m.group(1) is not None:
                defined.add(int(m.group(1)))
            elif m.group(2) is not None:
                used.setdefault(int(m.group(2)), m.start())
            elif m.group() == b"ENDSEC;":
                end_data = m.end()
                break
        tail = mm[max(0, size - 256) :].rstrip()
        if end_data < 0 or not tail.endswith(_TRAILER):
            what = "inside the DATA section, without ENDSEC; and" if end_data < 0 else "after the DATA section, without"
            raise InputError("TRUNCATED_FILE", f"{name}: the IFC file is truncated: it ends at byte {size} {what} the END-ISO-10303-21; trailer",
                             where={"file": name, "byte": size},
                             hint="the file was cut (interrupted download or copy, full disk): fetch or export it again; "
                             "nothing was published and the published graph of this source is unchanged")
    dangling = sorted(set(used) - defined)
    if dangling:
        listed = ", ".join(f"#{i}" for i in dangling[:MAX_LISTED]) + (f" and {len(dangling) - MAX_LISTED} more" if len(dangling) > MAX_LISTED else "")
        raise InputError("IFC_DANGLING_REFERENCES",
                         f"{name}: {len(dangling)} entity reference(s) point to instances the file does not define ({listed})",
                         where=where, hint="the model is incomplete or was edited by hand: export it again from the authoring tool")
    if not defined:
        raise InputError("IFC_EMPTY", f"{name}: the DATA section defines no entity", where=where, hint="export the model again")
    return StepStats(entities=len(defined), data_bytes=end_data - data, schema=schema.group(1).decode("ascii", "replace") if schema else "")
