"""Batches of readings: what :meth:`~kg_twin.live.service.LiveService.ingest` returns
(:class:`IngestResult`), how it finds the point of each reading (:class:`Locator`), and the
N-Triples of a last known value (:func:`value_lines`).

>>> r = IngestResult()
>>> r.reject(0, RawReading("co2", "2024-05-01T10:00:00Z", 1.0), "UNKNOWN_POINT", "no point 'co2'")
>>> r.to_dict()["rejected"], short_hash("x")
(1, '11f6ad8ec52a2984')
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kg_twin.live.points import Point
from kg_twin.live.readings import RawReading, Reading, format_time  # noqa: F401 - RawReading: doctest
from kg_twin.rdf import Literal, XSD_BOOLEAN, XSD_DATETIME, XSD_DOUBLE
from kg_twin.terms import BRICK, KGT

if TYPE_CHECKING:
    from kg_twin.live.service import LiveService

MAX_REJECTS_LISTED = 1000


@dataclass
class IngestResult:
    """What a batch of readings did: counts, the first rejects with their reasons, alerts raised."""

    accepted: int = 0
    rejected: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)
    alerts: int = 0

    def reject(self, index: int, r: Reading, code: str, reason: str) -> None:
        self.rejected += 1
        if len(self.rejects) < MAX_REJECTS_LISTED:
            self.rejects.append({"index": index, "point": r.point, "code": code, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.rejected == 0,
            "received": self.accepted + self.rejected,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejects": self.rejects,
            "rejects_truncated": self.rejected > len(self.rejects),
            "alerts": self.alerts,
        }


@dataclass
class Pending:
    """The newest accepted reading of a point, waiting for the next flush into the state graph."""

    point: Point
    ts: int
    value: float
    quality: str | None


class Reject(Exception):
    """A reading refused, with its stable code and reason (the rest of the batch is kept)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class Locator:
    """The point and history series of each point key of one batch.

    Keys found are memoised in :attr:`found`; the first unknown key of a batch refreshes the
    project's catalogue once (points added since it was read), after which unknown keys are rejected.
    """

    def __init__(self, live: "LiveService", project: str) -> None:
        self.live, self.project = live, project
        self.cat = live.catalogs.get(project)
        self.series = live._prepare(project, self.cat)
        self.refreshed = False
        self.found: dict[str, tuple[Point, int]] = {}

    def locate(self, key: str) -> tuple[Point, int]:
        if not key:
            raise Reject("MISSING_POINT", "no point id or IRI (a reading is an object with point, timestamp, value)")
        iri = self.cat.keys.get(key)
        if iri is None and not self.refreshed:
            self.refreshed = True
            self.cat = self.live.catalogs.refresh_if_stale(self.project)
            self.series = self.live._prepare(self.project, self.cat)
            iri = self.cat.keys.get(key)
        if iri is None:
            if key in self.cat.ambiguous:
                raise Reject("AMBIGUOUS_POINT", f"{key!r} names several points of project {self.project!r}; use the point IRI")
            raise Reject("UNKNOWN_POINT", f"no point {key!r} in project {self.project!r} (a resource typed with a Brick Point class)")
        hit = self.found[key] = (self.cat.points[iri], self.series[iri])
        return hit


VALUE_P, TIME_P, QUALITY_P = f"<{BRICK}value>", f"<{BRICK}timestamp>", f"<{KGT}quality>"


def value_lines(node: str, p: Pending) -> str:
    """N-Triples of a last-known-value node's value, timestamp and quality: what each flush replaces."""
    if p.point.boolean:
        value = f'"{"true" if p.value else "false"}"^^<{XSD_BOOLEAN}>'
    else:
        value = f'"{p.value!r}"^^<{XSD_DOUBLE}>'  # a finite float's repr needs no escaping
    out = f'{node} {VALUE_P} {value} .\n{node} {TIME_P} "{format_time(p.ts)}"^^<{XSD_DATETIME}> .\n'
    if p.quality is not None:
        out += f"{node} {QUALITY_P} {Literal(p.quality).nt()} .\n"
    return out


def short_hash(s: str) -> str:
    """16 hex digits of SHA-1: stable node names for state values and alerts."""
    return hashlib.sha1(s.encode("utf-8")).hexdigest()[:16]
