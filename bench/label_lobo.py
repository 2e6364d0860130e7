"""Point name -> Brick class, leave-one-building-out: the learned model vs. the rule classifier.

For every building of the corpus (``kg_twin/ingest/labels/data/corpus.csv``), the learned model is
trained on all the *other* buildings (and Brick's labels) and scored on this one; the rule
classifier (no training) is scored on the same names in the same run. Names are weighted by how many
points of the building share their pattern (``count``), so the figures are per point.

Columns: strict top-1 (the gold class or the same class under an alias), entailing top-1 (also a
sub class of the gold), top-3, macro-F1 over the building's gold classes (strict), and, for the
learned model, the accuracy of the assignments it sends to review (confidence < 0.5) vs. those it
does not: the review flag is useful when the first is much lower than the second.

    python -m bench.structuring --labels-only
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from kg_twin.ingest.labels import brick_index, classify
from kg_twin.ingest.labels.corpus import Example, load_corpus
from kg_twin.ingest.labels.learned import RULE_K, brick_label_examples, train
from kg_twin.ingest.labels.results import Classification


def _macro_f1(pairs: list[tuple[str, str, int]], same: Any) -> float:
    """Macro-F1 over the gold classes: (gold, predicted, weight) triples."""
    tp: dict[str, float] = defaultdict(float)
    fp: dict[str, float] = defaultdict(float)
    fn: dict[str, float] = defaultdict(float)
    for gold, pred, w in pairs:
        if same(pred, gold):
            tp[gold] += w
        else:
            fn[gold] += w
            fp[pred] += w
    f1s = []
    for g in {g for g, _, _ in pairs}:
        p = tp[g] / (tp[g] + fp[g]) if tp[g] + fp[g] else 0.0
        r = tp[g] / (tp[g] + fn[g]) if tp[g] + fn[g] else 0.0
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return sum(f1s) / len(f1s) if f1s else 0.0


def score(examples: list[Example], results: list[Classification]) -> dict[str, Any]:
    idx = brick_index()

    def same(p: str, g: str) -> bool:
        return idx.same(p, g)

    def entails(p: str, g: str) -> bool:
        return idx.same(p, g) or idx.is_a(idx.canonical(p), idx.canonical(g))

    n = sum(e.count for e in examples) or 1
    flagged = [(e, c) for e, c in zip(examples, results) if c.flagged]
    kept = [(e, c) for e, c in zip(examples, results) if not c.flagged]

    def acc(rows: list[tuple[Example, Classification]]) -> float | None:
        w = sum(e.count for e, _ in rows)
        return sum(e.count for e, c in rows if same(c.point_class, e.brick_class)) / w if w else None

    return {
        "points": n,
        "strict": sum(e.count for e, c in zip(examples, results) if same(c.point_class, e.brick_class)) / n,
        "entailing": sum(e.count for e, c in zip(examples, results) if entails(c.point_class, e.brick_class)) / n,
        "top3": sum(e.count for e, c in zip(examples, results) if any(same(x.brick_class, e.brick_class) for x in c.candidates[:3])) / n,
        "macro_f1": _macro_f1([(e.brick_class, c.point_class, e.count) for e, c in zip(examples, results)], same),
        "flagged_share": sum(e.count for e, _ in flagged) / n,
        "flagged_acc": acc(flagged),
        "unflagged_acc": acc(kept),
    }


def run(buildings: list[str] | None = None) -> list[dict[str, Any]]:
    """One row per (building, classifier); the rule results are computed once and shared."""
    corpus = load_corpus()
    names = {e.name for e in corpus} | {e.name for e in brick_label_examples()}
    t0 = time.perf_counter()
    rules = {n: classify(n, k=RULE_K) for n in sorted(names)}
    rule_s = time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    for b in buildings or sorted({e.building for e in corpus}):
        test = [e for e in corpus if e.building == b]
        t1 = time.perf_counter()
        model = train([e for e in corpus if e.building != b], rules=rules.__getitem__)
        fit_s = time.perf_counter() - t1
        learned = model.classify_many([e.name for e in test], rules=[rules[e.name] for e in test])
        rows.append({"building": b, "classifier": "rules", **score(test, [rules[e.name] for e in test]), "seconds": rule_s * len(test) / len(names)})
        rows.append({"building": b, "classifier": "learned", **score(test, learned), "seconds": fit_s})
    return rows


def pooled(rows: list[dict[str, Any]], classifier: str) -> dict[str, float]:
    sel = [r for r in rows if r["classifier"] == classifier]
    n = sum(r["points"] for r in sel) or 1
    return {
        "points": n,
        "strict": sum(r["strict"] * r["points"] for r in sel) / n,
        "entailing": sum(r["entailing"] * r["points"] for r in sel) / n,
        "mean_strict": sum(r["strict"] for r in sel) / (len(sel) or 1),
        "mean_entailing": sum(r["entailing"] for r in sel) / (len(sel) or 1),
        "mean_macro_f1": sum(r["macro_f1"] for r in sel) / (len(sel) or 1),
    }


def report(rows: list[dict[str, Any]]) -> str:
    def pct(v: float | None) -> str:
        return "   -  " if v is None else f"{100 * v:5.1f}%"

    lines = ["building        points  classifier  strict  entail   top-3  macroF1  flagged  acc(flagged)  acc(not)"]
    for r in rows:
        lines.append(
            f"{r['building']:15s} {r['points']:6d}  {r['classifier']:10s} {pct(r['strict'])} {pct(r['entailing'])} {pct(r['top3'])}  {pct(r['macro_f1'])}  {pct(r['flagged_share'])}  {pct(r['flagged_acc'])}       {pct(r['unflagged_acc'])}"
        )
    for clf in ("rules", "learned"):
        p = pooled(rows, clf)
        lines.append(
            f"ALL ({clf}): {p['points']} points, strict {100 * p['strict']:.1f}%, entailing {100 * p['entailing']:.1f}%; "
            f"mean over buildings: strict {100 * p['mean_strict']:.1f}%, entailing {100 * p['mean_entailing']:.1f}%, macro-F1 {100 * p['mean_macro_f1']:.1f}%"
        )
    return "\n".join(lines)
