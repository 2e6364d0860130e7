"""Shared data models (pydantic): records read from sources, rejects, reports.

Readers yield :class:`Record` (or :class:`Reject` for rows they cannot read);
mappers turn records into triples or rejects; the pipeline returns an
:class:`IngestReport`. Counts must add up: every input record ends up either
mapped or rejected with a reason.

>>> r = Record(kind="row", fields={"name": "ZN-T"}, origin=Origin(file="points.csv", row=2))
>>> r.origin.describe()
'points.csv row 2'
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Origin(BaseModel):
    """Where a record came from: file plus row / feature / element / line."""

    file: str
    row: int | None = None  # 1-based data row (header is row 1 in a CSV; first data row is 2)
    feature: str | None = None  # GIS feature id / index
    element: str | None = None  # IFC GlobalId, JSON path...
    line: int | None = None
    column: int | None = None

    def describe(self) -> str:
        parts = [self.file]
        for k in ("row", "feature", "element", "line", "column"):
            v = getattr(self, k)
            if v is not None:
                parts.append(f"{k} {v}")
        return " ".join(parts)


class Record(BaseModel):
    kind: str  # row | feature | element | point | document | ...
    fields: dict[str, Any]
    origin: Origin


class Reject(BaseModel):
    origin: Origin
    code: str
    reason: str
    hint: str | None = None


class ValidationSummary(BaseModel):
    conforms: bool
    engine: str = ""
    engines: dict[str, str] = Field(default_factory=dict)  # shape -> engine that evaluated it
    total: int = 0
    by_severity: dict[str, int] = Field(default_factory=dict)
    by_shape: dict[str, int] = Field(default_factory=dict)
    results: list[str] = Field(default_factory=list)  # one readable line per result
    elapsed_s: float = 0.0


class IngestReport(BaseModel):
    project: str
    source: str  # source name (file name)
    sha256: str
    graph: str | None = None  # published graph IRI (None when quarantined / dry run)
    status: str = "published"  # published | quarantined | dry-run | failed
    reader: str = ""
    records: int = 0
    mapped: int = 0
    rejected: int = 0
    triples: int = 0
    rejects: list[Reject] = Field(default_factory=list)
    validation: ValidationSummary | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    activity: str | None = None  # PROV activity IRI
    mapping: dict[str, Any] | None = None
    document_only: bool = False  # no reader structures the file: catalogued as a document only
    warnings: list[dict[str, Any]] = Field(default_factory=list)  # checks that did not stop the ingest (coordinates vs. extent, ...)
    diff: dict[str, int] | None = None  # re-ingest: previous / staged / added / removed / changed / unchanged entities
