"""Scoring the classifier on an evaluation CSV (name, brick_class, source[, split])."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg_twin.ingest.labels.brick import brick_index
from kg_twin.ingest.labels.classify import classify
from kg_twin.ingest.labels.review import Corrections
from kg_twin.ingest.labels.tables import DEFAULT_BRICK_VERSION
from kg_twin.terms import BRICK


@dataclass
class EvalResult:
    rows: list[dict[str, Any]]  # name, gold, predicted, correct, source, split, in_brick

    def accuracy(self, **where: str) -> tuple[float, int, int]:
        sel = [r for r in self.rows if r["in_brick"] and all(r.get(k) == v for k, v in where.items())]
        ok = sum(1 for r in sel if r["correct"])
        return (ok / len(sel) if sel else 0.0), ok, len(sel)


def evaluate(path: str | Path, *, version: str = DEFAULT_BRICK_VERSION, corrections: Corrections | None = None) -> EvalResult:
    """Top-1 accuracy of :func:`classify` on an eval CSV (name, brick_class, source[, split]).

    A prediction is correct when it is the gold class or the same Brick class under another
    name (``brick:aliasOf``, ``owl:equivalentClass``, ``brick:isReplacedBy``), e.g.
    Discharge_Air_Temperature_Sensor = Supply_Air_Temperature_Sensor in Brick.
    Rows whose gold class is not in this Brick release are reported but not scored.
    ``corrections`` are applied first, as the table mapper does with a mapping file's.
    """
    import csv

    idx = brick_index(version)
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            gold = r["brick_class"].strip()
            if gold.startswith("brick:"):
                gold = BRICK + gold[len("brick:") :]
            c = classify(r["name"], version=version)
            if corrections is not None:
                c = corrections.apply(c)
            in_brick = gold in idx.classes
            rows.append(
                {
                    "name": r["name"],
                    "gold": gold,
                    "predicted": c.point_class,
                    "correct": in_brick and idx.same(c.point_class, gold),
                    "in_top3": in_brick and any(idx.same(x.brick_class, gold) for x in c.candidates),
                    # right but less specific: the prediction is a super class of the gold class
                    "general": in_brick and c.point_class != BRICK + "Point" and (idx.same(c.point_class, gold) or idx.is_a(idx.canonical(gold), idx.canonical(c.point_class)) or idx.is_a(gold, c.point_class)),
                    "source": r.get("source", ""),
                    "split": r.get("split", ""),
                    "in_brick": in_brick,
                    "confidence": c.confidence,
                    "flagged": c.flagged,
                }
            )
    return EvalResult(rows)
