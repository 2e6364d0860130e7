"""Response bodies of the REST API, as pydantic models, so ``/openapi.json`` describes what is sent.

The routers still build their answers from the domain objects' ``to_dict()``; these models are what
FastAPI validates and documents them against (``response_model=``). Extra keys are allowed where a
body is open-ended (a catalogue entry's parameter schema, a job's progress).

>>> ErrorBody(status=404, code="PROJECT_NOT_FOUND", error="no project 'x'").model_dump(exclude_none=True)["ok"]
False
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kg_twin.models import IngestReport, ValidationSummary

__all__ = ["IngestReport", "ValidationSummary"]


class ErrorBody(BaseModel):
    """The one JSON error body of every REST endpoint (``kg_twin.errors.KgTwinError.to_dict``)."""

    ok: Literal[False] = False
    status: int = Field(..., description="the HTTP status, repeated")
    code: str = Field(..., description="stable machine code, e.g. PROJECT_NOT_FOUND, SPARQL_TOO_DEEP")
    error: str = Field(..., description="what went wrong, for a person")
    errors: list[dict[str, Any]] = Field(default_factory=list, description="details: offending parameters, limits, validation results")
    hint: str | None = Field(None, description="what to do about it (a command, an option, a setting)")
    where: dict[str, Any] | None = Field(None, description="where in the input: file, line, column, row, part...")


class IngestViolationBody(ErrorBody):
    """422 of an ingest whose SHACL violations were not accepted: the data is quarantined."""

    report: IngestReport | None = None
    quarantine: str | None = Field(None, description="IRI of the quarantine graph holding the staged data")


class Health(BaseModel):
    ok: bool
    version: str
    store: str
    generation: int
    query_workers: int


class Project(BaseModel):
    id: str
    title: str = ""
    description: str = ""
    owner: str = ""
    licence: str = ""
    created: str = ""
    public: bool = False
    iri: str = ""
    default_graph: Literal["union", "default"] = "union"


class ProjectList(BaseModel):
    projects: list[Project]


class GraphInfo(BaseModel):
    iri: str = Field(..., description="the graph's name as clients use it")
    triples: int


class ProjectView(Project):
    graphs: list[GraphInfo]
    sparql: str = Field(..., description="path of the project's SPARQL endpoint")
    inference: dict[str, Any] | None = Field(
        None, description="the inferred graph: state (current | pending | failed | off), graph, triples, last_run"
    )


class Token(BaseModel):
    id: str
    project: str
    role: Literal["reader", "writer", "admin"]
    label: str = ""
    created: str | None = None
    revoked: bool = False


class TokenList(BaseModel):
    tokens: list[Token]


class NewToken(BaseModel):
    id: str
    token: str = Field(..., description="the secret: shown once, send it as 'Authorization: Bearer <token>'")
    project: str
    role: Literal["reader", "writer", "admin"]


class Job(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    project: str
    source: str
    status: Literal["queued", "running", "done", "failed"]
    created: str
    started: str | None = None
    finished: str | None = None
    progress: dict[str, Any] = Field(default_factory=dict)
    report: IngestReport | None = None
    error: dict[str, Any] | None = None


class JobList(BaseModel):
    jobs: list[Job]


class Reader(BaseModel):
    name: str
    extensions: list[str]
    passthrough: bool


class ReaderList(BaseModel):
    readers: list[Reader]
    unavailable: dict[str, str] = Field(default_factory=dict, description="readers this build lacks, with the reason")


class QueryEntry(BaseModel):
    """One named query: a REST operation of the catalogue or of a project."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str
    operationId: str
    summary: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    origin: str = ""
    form: str
    method: str
    path: str
    parameters: list[dict[str, Any]] = Field(default_factory=list)
    pagination: int | None = None
    formats: list[str]
    variables: list[str] = Field(default_factory=list)
    example: str
    sparql: str | None = Field(None, description="the SPARQL text (single entries and project queries)")


class Catalogue(BaseModel):
    queries: list[QueryEntry]
    invalid: list[dict[str, Any]] = Field(default_factory=list, description="query files that failed their checks, with the error")


class ProjectQueries(BaseModel):
    project: str
    queries: list[QueryEntry]


class ObservationBatchResult(BaseModel):
    ok: bool = Field(..., description="true when every reading was accepted")
    received: int
    accepted: int
    rejected: int
    rejects: list[dict[str, Any]]
    rejects_truncated: bool
    alerts: int = Field(0, description="alerts these readings raised or cleared")


class Point(BaseModel):
    model_config = ConfigDict(extra="allow")

    iri: str
    id: str = Field(..., description="time-series id")
    class_: list[str] = Field(default_factory=list, alias="class")
    unit: str | None = None


class PointList(BaseModel):
    project: str
    points: list[Point]


class History(BaseModel):
    """Raw readings (``rows`` of time/value/quality) or aggregates (``every``, ``agg``, rows of time/value/count)."""

    point: str
    id: str | None
    project: str
    unit: str | None
    start: str
    end: str
    rows: list[dict[str, Any]]
    truncated: bool | None = None
    every: str | None = None
    agg: str | None = None


class Rule(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    kind: Literal["threshold", "sparql"]
    label: str = ""
    created: str = ""


class RuleList(BaseModel):
    project: str
    rules: list[Rule]


class LiveStatus(BaseModel):
    live: dict[str, Any]
    flush_s: float
    mqtt: dict[str, Any] | None = None
