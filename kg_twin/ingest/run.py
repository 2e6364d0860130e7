"""The state of one ingest: what the caller asked (:class:`IngestOptions`) and what each stage of
:mod:`kg_twin.ingest.pipeline` found (:class:`Run`).

>>> t = Timer()
>>> _ = t.lap("read")
>>> sorted(t.timings)
['read']
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

from kg_twin.errors import InputError
from kg_twin.ingest.base import FileLoad, IngestTwin, MapContext, SourceHandler
from kg_twin.ingest.sources import Received
from kg_twin.ingest.validate import Outcome
from kg_twin.models import IngestReport, Record, Reject
from kg_twin.store.base import GraphStore, PendingLoad

ACCEPT_LEVELS = ("none", "warnings", "violations")

Progress = Callable[[str, dict[str, Any]], None]


@dataclass
class IngestOptions:
    """What the caller asked for (CLI flags / query parameters)."""

    reader: str | None = None  # handler name (overrides sniffing)
    mapping: dict[str, Any] | None = None  # a reviewed mapping (from --mapping FILE)
    dry_run: bool = False  # only read + propose; nothing stored
    accept: str = "warnings"  # publish despite: none (nothing) | warnings | violations
    agent: str = ""  # who asked (token label / user), for prov:wasAssociatedWith
    name: str | None = None  # the file's original name (uploads)
    graph: str | None = None  # short graph name (default: slug of the file name)
    shapes: Sequence[str | Path] | None = None  # shape files instead of the project's shapes
    validate: bool = True
    engine: str | None = None  # SHACL engine for kg_twin.validation (kgtwin | pyshacl | auto)
    options: dict[str, Any] = field(default_factory=dict)  # handler options (crs, subjects, read: {encoding}, ...)
    accept_removals: bool = False  # publish a re-ingest that removes > 20 % of the previous entities
    structured_only: bool = False  # refuse a file no reader structures (instead of a document-only entry)

    def check(self) -> None:
        if self.accept not in ACCEPT_LEVELS:
            raise InputError("BAD_ACCEPT", f"accept={self.accept!r} is not one of {', '.join(ACCEPT_LEVELS)}", hint="accept=violations publishes despite violations; accept=warnings (default) publishes despite warnings only")


class Timer:
    """Seconds per stage (``IngestReport.timings``)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.last = self.start
        self.timings: dict[str, float] = {}

    def lap(self, stage: str) -> float:
        now = time.perf_counter()
        self.timings[stage] = round(now - self.last, 4)
        self.last = now
        return now

    def total(self) -> dict[str, float]:
        return {**self.timings, "total": round(time.perf_counter() - self.start, 4)}


@dataclass
class Staged:
    """Where the stage step put the triples: ``store`` (the in-memory staging store, or the
    project store itself for big sources) holds them in the run's staging graph. ``pending``: the
    project store is loading the same file into the target graph meanwhile (kept only if
    published); ``alignment``: the pass-through alignment triples are also apart in the run's
    alignment graph (the pending graph gets just those)."""

    store: GraphStore
    on_disk: bool
    pending: PendingLoad | None = None
    alignment: bool = False


@dataclass
class Run:
    """One ingest in progress: the source, the names it gets, what each stage found."""

    twin: IngestTwin
    project: str
    opts: IngestOptions
    source: Received
    report: IngestReport
    slug: str  # short graph name
    graph: str  # the graph a publish writes
    staging: str  # the hidden graph the triples are staged in
    quarantine: str  # the hidden graph a refused publish leaves them in
    source_iri: str  # the kgt:Source entity of the file
    started: datetime
    say: Progress
    timer: Timer = field(default_factory=Timer)
    handler: SourceHandler | None = None
    ctx: MapContext | None = None
    records: list[Record] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    read_count: int = 0  # records + read rejects
    mapping: dict[str, Any] = field(default_factory=dict)
    mapping_hash: str = ""
    load: FileLoad | None = None  # pass-through: the file the store loads as it is
    triples_file: Path | None = None  # mapped: the N-Triples the mapper wrote
    written: int = 0  # mapped: triples in triples_file
    mapped: int = 0  # records that gave triples
    outcome: Outcome | None = None  # validation (None: not validated)

    @property
    def name(self) -> str:
        """The source's file name."""
        return self.source.name

    @property
    def alignment_graph(self) -> str:
        return f"{self.staging}/alignment"

    @property
    def workdir(self) -> Path:
        """The folder of the stored source (temporary files of the run go there too)."""
        if self.source.dir is None:  # pragma: no cover - the pipeline stops dry runs before staging
            raise RuntimeError("a dry run stores nothing")
        return self.source.dir
