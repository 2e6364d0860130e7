"""The ingest handlers: which are installed, and which one reads a file.

kg-twin's own handlers are the plain import table of :func:`_import_builtin` (each module registers
its handler with :func:`kg_twin.ingest.base.register` when imported). Third-party handler modules
are named in ``KG_TWIN_INGEST_HANDLERS`` (comma-separated dotted names) and resolved by name.
"""

from __future__ import annotations

import logging
import os
import pkgutil
from pathlib import Path

from kg_twin.errors import InputError, KgTwinError
from kg_twin.ingest.base import HANDLERS, SourceHandler

log = logging.getLogger(__name__)

# extra handler modules (third-party readers), comma-separated: KG_TWIN_INGEST_HANDLERS=pkg.mod,other.mod
EXTRA_HANDLERS_ENV = "KG_TWIN_INGEST_HANDLERS"
SNIFF_BYTES = 64 * 1024

_unavailable: dict[str, str] = {}  # handler module -> why it could not be imported
_builtin_loaded = False


def _import_builtin() -> None:
    """Import kg-twin's own handler modules (plain imports; they register themselves).

    The IFC reader needs ifcopenshell's compiled wheel, which some platforms lack: when it cannot be
    imported, it is listed by :func:`unavailable_handlers` and the other readers still work.
    """
    global _builtin_loaded
    if _builtin_loaded:
        return
    from kg_twin.ingest.mappers import haystack, rdf, table  # noqa: F401
    from kg_twin.ingest.readers import citygml, cityjson, document, geojson, geopackage, shapefile  # noqa: F401

    try:
        from kg_twin.ingest.readers import ifc  # noqa: F401
    except ImportError as e:
        _unavailable["kg_twin.ingest.readers.ifc"] = str(e)
        log.warning("ingest handler module kg_twin.ingest.readers.ifc is unavailable: %s", e)
    _builtin_loaded = True


def load_handlers() -> dict[str, SourceHandler]:
    """Import every handler module (they register themselves) and return the registry."""
    _import_builtin()
    for name in filter(None, (x.strip() for x in os.environ.get(EXTRA_HANDLERS_ENV, "").split(","))):
        try:
            pkgutil.resolve_name(name)  # a third-party module named by configuration
        except (ImportError, AttributeError, ValueError) as e:
            raise InputError("HANDLER_IMPORT", f"cannot import ingest handler module {name!r} ({EXTRA_HANDLERS_ENV}): {e}", hint=f"fix {EXTRA_HANDLERS_ENV} or install the module") from None
    return HANDLERS


def unavailable_handlers() -> dict[str, str]:
    load_handlers()
    return dict(_unavailable)


def handler_names() -> list[str]:
    return sorted(load_handlers())


def get_handler(name: str) -> SourceHandler:
    hs = load_handlers()
    if name not in hs:
        raise InputError("UNKNOWN_READER", f"no reader named {name!r}", hint=f"known readers: {', '.join(sorted(hs)) or '(none installed)'}")
    return hs[name]


def detect(path: Path, *, name: str | None = None) -> tuple[SourceHandler, float, dict[str, float]]:
    """The handler most confident it reads ``path`` -> (handler, confidence, all scores)."""
    hs = load_handlers()
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    scores: dict[str, float] = {}
    for hname, h in sorted(hs.items()):
        try:
            scores[hname] = float(h.sniff(Path(path), head))
        except (OSError, ValueError, UnicodeError, KgTwinError) as e:
            log.warning("reader %s could not sniff %s: %s", hname, path, e)
            scores[hname] = 0.0
    fname = name or Path(path).name
    suffix = Path(fname).suffix.lower()

    def rank(item: tuple[str, float]) -> tuple[float, int, str]:
        exts = tuple(e if e.startswith(".") else "." + e for e in hs[item[0]].extensions)
        return (item[1], 1 if suffix in exts else 0, item[0])

    best = max(scores.items(), key=rank, default=None)
    if best is None or best[1] <= 0.0:
        raise InputError(
            "UNKNOWN_FORMAT",
            f"{fname}: no reader recognises this file",
            where={"file": fname},
            hint=f"pass --reader NAME (one of: {', '.join(sorted(hs)) or 'none installed'}) or check the file type",
        )
    return hs[best[0]], best[1], scores
