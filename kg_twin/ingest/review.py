"""Checks between mapping and publishing: nothing is published silently.

* :func:`structure_check`: a file no reader structures is catalogued as a *document only*
  (``IngestReport.document_only``); with ``structured_only`` (``kg-twin ingest --strict``) it is refused.
* :func:`check_mapped`: an ingest that maps no record (every record rejected, or none read) fails
  (``NOTHING_MAPPED``, 400); the previously published graph stays.
* :func:`entity_diff` / :func:`check_removals`: a re-ingest reports the entity-level difference with
  the published graph (entities = IRI subjects; *changed* = same IRI, different statements) and is
  refused (``REMOVALS_NOT_ACCEPTED``, 409) when it would remove more than :data:`MAX_REMOVED_SHARE` of
  the previous entities, unless the caller accepts removals (``--accept-removals`` / ``accept_removals=true``).

>>> d = {"previous": 10, "staged": 7, "added": 0, "removed": 3, "changed": 1, "unchanged": 6}
>>> check_removals(d, accept=False, name="model.ifc")
Traceback (most recent call last):
...
kg_twin.errors.InputError: [REMOVALS_NOT_ACCEPTED] model.ifc: this ingest would remove 3 of the 10 entities of the published graph (30.0 % > 20 %) (file model.ifc)
  hint: check the source is complete; to replace the graph anyway, pass --accept-removals (API: accept_removals=true)
>>> check_removals(d, accept=True, name="model.ifc") is None
True
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from kg_twin.errors import InputError
from kg_twin.models import IngestReport, Reject

MAX_REMOVED_SHARE = 0.20
DOCUMENT_READER = "document"
RECOGNISED = 0.5  # a document reader score below this is the "any file" fallback
_BNODE = re.compile(rb"_:[A-Za-z0-9_\-.]+")
_SOURCE = re.compile(rb"/source/[0-9a-f]{64}>")  # the source file's IRI (by sha256) changes with every new version


def structure_check(handler_name: str, confidence: float, chosen: bool, structured_only: bool, name: str) -> bool:
    """True when the file is catalogued as a document only because no reader structures it.

    ``chosen``: the caller named the reader (``--reader document``: a document on purpose).
    """
    if handler_name != DOCUMENT_READER or chosen or confidence >= RECOGNISED:
        return False
    if structured_only:
        raise InputError(
            "NOT_STRUCTURED",
            f"{name}: no reader structures this file (it would be stored as a document only); refused because of --strict",
            where={"file": name},
            hint="list the formats with `kg-twin readers`; pass --reader NAME if the format was not recognised, "
            "or --reader document to catalogue the file as a document",
        )
    return True


def check_mapped(report: IngestReport, rejects: list[Reject], name: str) -> None:
    """Raise ``NOTHING_MAPPED`` when no record was mapped (the caller has staged nothing worth publishing)."""
    if report.records and report.mapped and report.triples:
        return
    if not report.records:
        msg = f"{name}: the reader found no record in the file; nothing was published"
        hint = "check the file is the complete export (a dry run, --dry-run, shows what is read)"
    else:
        codes = Counter(r.code for r in rejects)
        top = ", ".join(f"{n} x {c}" for c, n in codes.most_common(4))
        first = rejects[0].reason if rejects else "no triples produced"
        msg = f"{name}: nothing mapped: {report.rejected} of {report.records} records rejected ({top}; first: {first}); nothing was published"
        hint = ("check the coordinate system: pass the right --crs (e.g. --crs EPSG:2154), or drop --crs to use the file's own"
                if "OUT_OF_RANGE" in codes else "fix the source or the mapping (--dry-run prints the proposed mapping; --mapping FILE uses an edited one)")
    e = InputError("NOTHING_MAPPED", msg, where={"file": name}, hint=hint + "; the published graph of this source is unchanged",
                   errors=[{"where": r.origin.describe(), "code": r.code, "reason": r.reason} for r in rejects[:200]])
    raise e


def _subject_hashes(store: Any, graph: str, tmp_dir: Path) -> dict[bytes, int]:
    """IRI subject -> order-independent hash of its statements (blank node labels and the link to the
    source file version ignored: a changed entity is one whose own statements changed)."""
    out: dict[bytes, int] = {}
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix=".diff-", suffix=".nt")
    try:
        with os.fdopen(fd, "wb") as fh:
            store.dump(fh, format="ntriples", graphs=[graph])
        with open(tmp, "rb") as fh:
            for line in fh:
                if not line.startswith(b"<"):
                    continue
                s, _, rest = line.partition(b" ")
                out[s] = out.get(s, 0) ^ hash(_SOURCE.sub(b"/source/*>", _BNODE.sub(b"_:", rest.rstrip())))
    finally:
        os.unlink(tmp)
    return out


def entity_diff(published: Any, graph: str, staged: Any, staging: str, tmp_dir: Path) -> dict[str, int] | None:
    """Entity-level difference between the published ``graph`` and the staged graph (None: no previous graph)."""
    if not published.has_graph(graph):
        return None
    before = _subject_hashes(published, graph, tmp_dir)
    after = _subject_hashes(staged, staging, tmp_dir)
    common = before.keys() & after.keys()
    changed = sum(1 for s in common if before[s] != after[s])
    return {"previous": len(before), "staged": len(after), "added": len(after.keys() - before.keys()),
            "removed": len(before.keys() - after.keys()), "changed": changed, "unchanged": len(common) - changed}


def check_removals(diff: dict[str, int] | None, *, accept: bool, name: str) -> None:
    """Refuse a re-ingest that removes more than :data:`MAX_REMOVED_SHARE` of the previous entities."""
    if diff is None or accept or not diff["previous"]:
        return
    share = diff["removed"] / diff["previous"]
    if share > MAX_REMOVED_SHARE:
        raise InputError(
            "REMOVALS_NOT_ACCEPTED",
            f"{name}: this ingest would remove {diff['removed']} of the {diff['previous']} entities of the published graph "
            f"({share * 100:.1f} % > {MAX_REMOVED_SHARE * 100:.0f} %)",
            where={"file": name},
            hint="check the source is complete; to replace the graph anyway, pass --accept-removals (API: accept_removals=true)",
            status=409,
            errors=[dict(diff)],
        )


def with_read_options(mapping: dict[str, Any] | None, read: dict[str, Any] | None) -> dict[str, Any] | None:
    """The mapping with the caller's reader options (``--encoding``) in its ``read:`` section
    (the caller's win), so a dry run's mapping file carries them and gives the same read next time.

    >>> with_read_options({"handler": "table"}, {"encoding": "latin-1"})
    {'handler': 'table', 'read': {'encoding': 'latin-1'}}
    >>> with_read_options(None, None) is None
    True
    """
    if not read:
        return mapping
    out = dict(mapping or {})
    out["read"] = {**(out.get("read") or {}), **read}
    return out
