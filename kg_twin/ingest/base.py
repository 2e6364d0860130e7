"""Contracts of the structuring pipeline: sources are *read* into records, a
*mapping* is proposed (and may be edited by a person), records are *mapped* to
typed triples.

Each source type provides a :class:`SourceHandler` registered in
:data:`HANDLERS` (see :func:`register`):

* ``sniff(path, head) -> float``: confidence (0..1) that this handler reads the file;
* ``read(path) -> Iterator[Record | Reject]``: records with their origin (file + row/feature/element);
* ``propose(records, ctx) -> dict``: a reviewable mapping (YAML-able dict) with a ``confidence`` per decision;
* ``map(records, mapping, ctx) -> Iterator[Triple | Reject]``: deterministic triples (IRIs from
  ``ctx.naming.mint``), or a reject with a reason for a record that cannot be mapped;
* ``file_load(path, mapping, ctx, workdir) -> FileLoad | None``: how the source reaches the
  store. ``None`` (every handler built on :class:`RecordSource`): the mapped triples are written
  to N-Triples and that file is staged and published. A :class:`FileLoad` (RDF files,
  pass-through): the store's bulk loader reads the file itself, and one SPARQL update adds
  the alignment triples. The pipeline has no other path.

The same file with the same mapping must give the same graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from kg_twin.ingest.staging import IngestStaging

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, Union

from kg_twin.models import Record, Reject
from kg_twin.rdf import IRI, Term
from kg_twin.settings import Settings
from kg_twin.store.base import GraphStore
from kg_twin.terms import Naming

Triple = tuple[Term, IRI, Term]


@dataclass
class MapContext:
    naming: Naming
    project: str
    source_iri: str  # IRI of the kgt:Source entity (the original file, by sha256)
    source_name: str  # file name
    options: dict[str, Any] = field(default_factory=dict)

    def mint(self, kind: str, key: str) -> IRI:
        return IRI(self.naming.mint(self.project, kind, key))


@dataclass(frozen=True)
class FileLoad:
    """A source file the store loads as it is (pass-through).

    ``path`` holds triples in ``format`` (a triple format of :data:`kg_twin.formats.RDF_FORMATS`),
    read with ``base_iri``; ``align(staged_graph, into)`` is the SPARQL update that adds the
    alignment triples computed over the loaded graph (into ``into``, or the graph itself when
    ``None``), or ``align`` is ``None``: the file's triples are the graph.
    """

    path: Path
    format: str
    base_iri: str | None = None
    align: Callable[[str, str | None], str] | None = None


class SourceHandler(Protocol):
    name: str
    extensions: tuple[str, ...]

    def sniff(self, path: Path, head: bytes) -> float: ...

    def read(self, path: Path) -> Iterator[Union[Record, Reject]]: ...

    def propose(self, records: list[Record], ctx: MapContext) -> dict[str, Any]: ...

    def map(self, records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]: ...

    def file_load(self, path: Path, mapping: dict[str, Any], ctx: MapContext, workdir: Path) -> FileLoad | None:
        """The file the store loads as it is (files it writes go to ``workdir``), or ``None``: the records are mapped."""
        ...


class RecordSource:
    """Base of the handlers whose records are mapped to triples (every handler but pass-through RDF)."""

    passthrough = False

    def file_load(self, path: Path, mapping: dict[str, Any], ctx: MapContext, workdir: Path) -> FileLoad | None:
        return None


class ProjectsOf(Protocol):
    def get(self, project: str) -> object:
        """The project's record; raises :class:`kg_twin.errors.NotFound` for an unknown project."""
        ...


class IngestTwin(Protocol):
    """What an ingest uses of the twin."""

    settings: Settings
    naming: Naming
    store: GraphStore
    projects: ProjectsOf
    ingest_staging: "IngestStaging"  # the in-memory store staged data is validated in

    def project_graphs(self, project: str, *, include_inferred: bool = True, include_default: bool = True) -> list[str]: ...

    def notify(self, project: str) -> None: ...


HANDLERS: dict[str, SourceHandler] = {}


def register(handler: SourceHandler) -> SourceHandler:
    """Add a handler to :data:`HANDLERS` (each handler module calls this at import time)."""
    missing = [m for m in ("sniff", "read", "propose", "map", "file_load") if not callable(getattr(handler, m, None))]
    if missing:
        raise TypeError(f"ingest handler {type(handler).__name__} lacks {', '.join(missing)} (build it on kg_twin.ingest.base.RecordSource)")
    HANDLERS[handler.name] = handler
    return handler
