"""What the classifier returns: candidates, equipment references, one classification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class EquipmentRef:
    token: str  # as written, e.g. "AHU-1"
    kind: str  # abbreviation, e.g. "ahu"
    brick_class: str | None  # Brick class IRI for that abbreviation (None if Brick has none)


@dataclass
class Candidate:
    brick_class: str
    score: float

    @property
    def name(self) -> str:
        return self.brick_class.rsplit("#", 1)[-1]


@dataclass
class Classification:
    name: str
    candidates: list[Candidate]
    point_class: str
    confidence: float
    tags: list[str]
    unknown: list[str]
    equipment: list[EquipmentRef]
    room: str | None
    why: str
    flagged: bool
    reason: str | None = None
    # what the name says once identifiers are set aside: names with one pattern get one class
    pattern: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "class": self.point_class,
            "confidence": round(self.confidence, 3),
            "candidates": [{"class": c.brick_class, "score": round(c.score, 3)} for c in self.candidates],
            "tags": self.tags,
            "unknown": self.unknown,
            "equipment": [{"token": e.token, "class": e.brick_class} for e in self.equipment],
            "room": self.room,
            "why": self.why,
            "flagged": self.flagged,
            "reason": self.reason,
            "pattern": self.pattern,
        }
