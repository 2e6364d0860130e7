"""A person's side: corrections applied by name and pattern, review lists grouped for reading."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any, Iterable

from kg_twin.errors import InputError
from kg_twin.ingest.labels.brick import brick_class_of, brick_index
from kg_twin.ingest.labels.classify import classify
from kg_twin.ingest.labels.results import Candidate, Classification
from kg_twin.ingest.labels.tables import DEFAULT_BRICK_VERSION
from kg_twin.terms import BRICK


class Corrections:
    """A person's corrections of guessed classes: point name -> Brick class.

    A correction also applies to every other name with the same :attr:`Classification.pattern`
    (same tags, function and unknown words once equipment ids, rooms and place words are set
    aside): correcting ``Core_ZN-...-Supply-Inlet-Node_System_Node_Temperature`` once fixes the
    same point of every zone. Two corrections that give one pattern different classes only apply
    to their own names. Classes are checked against Brick (``brick:X``, ``X`` or a full IRI).

    >>> fix = Corrections({"VAV-1 DPRPOS": "brick:Damper_Position_Setpoint"})
    >>> c = fix.apply(classify("VAV-7 DPRPOS"))
    >>> c.point_class.rsplit("#", 1)[1], c.flagged
    ('Damper_Position_Setpoint', False)
    """

    def __init__(self, by_name: dict[str, str] | None = None, *, version: str = DEFAULT_BRICK_VERSION, source: str = "corrections") -> None:
        self.version = version
        self.by_name: dict[str, str] = {}
        self.by_pattern: dict[str, tuple[str, str]] = {}
        clash: set[str] = set()
        idx = brick_index(version)
        for name, cls in (by_name or {}).items():
            iri = brick_class_of(str(cls), idx)
            if iri is None or not idx.is_a(iri, BRICK + "Point"):
                raise InputError(
                    "BAD_CORRECTION",
                    f"{source}: {cls!r} (for point {name!r}) is not a Brick point class",
                    where={"file": source, "name": str(name)},
                    hint="use a Brick point class such as brick:Zone_Air_Temperature_Sensor",
                )
            self.by_name[str(name)] = iri
            pattern = classify(str(name), version=version).pattern
            if pattern in self.by_pattern and self.by_pattern[pattern][0] != iri:
                clash.add(pattern)
            self.by_pattern.setdefault(pattern, (iri, str(name)))
        for pattern in clash:
            del self.by_pattern[pattern]

    def __len__(self) -> int:
        return len(self.by_name)

    def apply(self, c: Classification) -> Classification:
        """``c`` with a person's class when its name or its pattern was corrected."""
        if c.name in self.by_name:
            iri, why, confidence = self.by_name[c.name], "corrected by a person", 1.0
        elif c.pattern in self.by_pattern:
            iri, seen = self.by_pattern[c.pattern]
            why, confidence = f"same pattern as {seen!r}, corrected by a person", 0.95
        else:
            return c
        return replace(
            c,
            candidates=[Candidate(iri, confidence)] + [x for x in c.candidates if x.brick_class != iri][: len(c.candidates) - 1],
            point_class=iri,
            confidence=confidence,
            why=f"{why}; the classifier said {c.point_class.rsplit('#', 1)[-1]} ({c.why})",
            flagged=False,
            reason=None,
        )



def review_report(results: Iterable[Classification]) -> dict[str, Any]:
    """Group flagged classifications by reason (and unknown token) for a person to review.

    >>> r = review_report([classify("XQZ-77"), classify("ZN-T")])
    >>> r["flagged"], sorted(r["by_reason"])
    (1, ['no known tokens'])
    """
    results = list(results)
    by_reason: dict[str, list[str]] = defaultdict(list)
    unknown_tokens: Counter[str] = Counter()
    for r in results:
        if r.flagged:
            by_reason[r.reason or "flagged"].append(r.name)
            unknown_tokens.update(r.unknown)
    items = [
        {
            "name": r.name,
            "reason": r.reason,
            "class": "brick:" + r.point_class.rsplit("#", 1)[-1],
            "candidates": ["brick:" + c.name for c in r.candidates if c.brick_class != BRICK + "Point"],
            "why": r.why,
        }
        for r in sorted(results, key=lambda r: (r.reason or "", r.name))
        if r.flagged
    ]
    groups: dict[str, list[Classification]] = defaultdict(list)
    for r in results:
        groups[r.pattern].append(r)
    patterns = [
        {
            "pattern": pat,
            "class": "brick:" + rs[0].point_class.rsplit("#", 1)[-1],
            "names": len(rs),
            "flagged": sum(1 for r in rs if r.flagged),
            "lowest_confidence": round(min(r.confidence for r in rs), 3),
            "examples": sorted({r.name for r in rs})[:3],
        }
        for pat, rs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    return {
        "total": len(results),
        "flagged": len(items),
        "by_reason": {k: sorted(v) for k, v in sorted(by_reason.items())},
        "unknown_tokens": dict(unknown_tokens.most_common()),
        "items": items,
        # one line per pattern, largest first: checking one name of each is the fastest review
        # (a correction applies to the whole pattern, see Corrections)
        "patterns": patterns,
    }


def format_review(report: dict[str, Any]) -> str:
    """Plain-text review list (for the CLI / a report file).

    >>> print(format_review(review_report([classify("XQZ-77")])).splitlines()[0])
    1 of 1 point names need review
    """
    lines = [f"{report['flagged']} of {report['total']} point names need review"]
    for reason, names in report["by_reason"].items():
        lines.append(f"\n{reason} ({len(names)}):")
        for it in (i for i in report["items"] if i["reason"] == reason):
            cands = ", ".join(it["candidates"]) or "-"
            lines.append(f"  {it['name']}  -> {it['class']}  (candidates: {cands}; {it['why']})")
    big = [p for p in report.get("patterns", []) if p["names"] > 1][:20]
    if big:
        lines.append("\nlargest patterns (a correction of one name fixes its whole pattern):")
        for p in big:
            lines.append(f"  {p['names']:5d} x {p['class']}  e.g. {', '.join(p['examples'])}" + (f"  ({p['flagged']} flagged)" if p["flagged"] else ""))
    if report["unknown_tokens"]:
        lines.append("\ntokens not understood: " + ", ".join(f"{t} ({n})" for t, n in report["unknown_tokens"].items()))
    return "\n".join(lines)
