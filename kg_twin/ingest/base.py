"""Contracts of the structuring pipeline: sources are *read* into records, a
*mapping* is proposed (and may be edited by a person), records are *mapped* to
typed triples.

Each source type provides a :class:`SourceHandler` registered in
:data:`HANDLERS` (see :func:`register`):

* ``sniff(path, head) -> float``: confidence (0..1) that this handler reads the file;
* ``read(path) -> Iterator[Record | Reject]``: records with their origin (file + row/feature/element);
* ``propose(records, ctx) -> dict``: a reviewable mapping (YAML-able dict) with a ``confidence`` per decision;
* ``map(records, mapping, ctx) -> Iterator[Triple | Reject]``: deterministic triples (IRIs from
  ``ctx.naming.mint``), or a reject with a reason for a record that cannot be mapped.

The same file with the same mapping must give the same graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Protocol, Union

from kg_twin.models import Record, Reject
from kg_twin.rdf import IRI, Term
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


class SourceHandler(Protocol):
    name: str
    extensions: tuple[str, ...]

    def sniff(self, path: Path, head: bytes) -> float: ...

    def read(self, path: Path) -> Iterator[Union[Record, Reject]]: ...

    def propose(self, records: list[Record], ctx: MapContext) -> dict[str, Any]: ...

    def map(self, records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]: ...


HANDLERS: dict[str, SourceHandler] = {}


def register(handler: SourceHandler) -> SourceHandler:
    HANDLERS[handler.name] = handler
    return handler
