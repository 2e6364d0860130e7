"""Point-name classifier accuracy on tests/data/labels/eval.csv.

    /work/venv/bin/python bench/labels.py [--errors N] [--split SPLIT|all] [--file CSV]

Prints top-1 / top-3 accuracy per source and per split, then the most frequent confusions.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg_twin.ingest.labels import Corrections, brick_index, classify, evaluate  # noqa: E402


def short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", default=str(ROOT / "tests/data/labels/eval.csv"))
    ap.add_argument("--errors", type=int, default=15)
    ap.add_argument("--split", default="dev", help="show the errors of this split (or all); keep a blind split's errors unread while tuning")
    ap.add_argument("--review", action="store_true", help="also simulate a person reviewing the least confident names (corrections)")
    a = ap.parse_args()
    t0 = time.perf_counter()
    brick_index()
    t1 = time.perf_counter()
    res = evaluate(a.file)
    t2 = time.perf_counter()
    rows = [r for r in res.rows if r["in_brick"]]
    print(f"Brick index: {t1 - t0:.2f}s; {len(res.rows)} names classified in {t2 - t1:.2f}s "
          f"({len(res.rows) - len(rows)} with a gold class outside Brick, not scored)\n")
    by_src: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_src[r["source"]].append(r)
    print(f"{'source':78s} {'n':>4s} {'top-1':>7s} {'top-3':>7s} {'top-1 or super class':>21s}")

    def line(label: str, rs: list[dict]) -> None:
        n = len(rs)
        print(f"{label[:78]:78s} {n:4d} {sum(r['correct'] for r in rs) / n:7.1%} {sum(r['in_top3'] for r in rs) / n:7.1%} "
              f"{sum(r['general'] for r in rs) / n:21.1%}")

    for src, rs in sorted(by_src.items()):
        line(src, rs)
    splits = sorted({r["split"] for r in rows})
    for split in [*splits, None] if len(splits) > 1 else [None]:
        rs = [r for r in rows if split is None or r["split"] == split]
        if rs:
            line(split or "ALL", rs)
    kinds = error_kinds(rows)
    print(f"\nErrors by kind (ALL, {sum(len(v) for v in kinds.values())}): "
          + "; ".join(f"{k}: {len(v)}" for k, v in kinds.items())
          + f"\n  top-1 if a prediction more specific than its gold counted: "
          f"{(sum(r['correct'] for r in rows) + len(kinds['more specific than the gold (a sub class)'])) / len(rows):.1%}")
    errs = [r for r in rows if not r["correct"] and (a.split == "all" or r["split"] == a.split)]
    conf = Counter((short(r["gold"]), short(r["predicted"])) for r in errs)
    print(f"\nTop confusions (gold -> predicted), {len(errs)} errors:")
    for (g, p), n in conf.most_common(a.errors):
        ex = next(r["name"] for r in errs if short(r["gold"]) == g and short(r["predicted"]) == p)
        print(f"  {n:3d}  {g:45s} -> {p:45s} e.g. {ex}")
    print("\nFlagged for review (kgt:reviewReason) vs not, top-1 accuracy:")
    for split in [*splits, None] if len(splits) > 1 else [None]:
        rs = [r for r in rows if split is None or r["split"] == split]
        fl = [r for r in rs if r["flagged"]]
        ok = [r for r in rs if not r["flagged"]]
        acc = lambda xs: sum(r["correct"] for r in xs) / len(xs) if xs else 0.0  # noqa: E731
        print(f"  {split or 'ALL':8s} not flagged {len(ok):4d} ({acc(ok):6.1%})   flagged {len(fl):4d} ({acc(fl):6.1%})")
    if a.review:
        review_curve(a.file)


def error_kinds(rows: list[dict]) -> dict[str, list[dict]]:
    """Wrong predictions by their place in the Brick hierarchy relative to the gold class."""
    idx = brick_index()
    kinds: dict[str, list[dict]] = {"more specific than the gold (a sub class)": [], "less specific (a super class)": [], "elsewhere": []}
    for r in rows:
        if r["correct"]:
            continue
        if r["predicted"] and idx.is_a(r["predicted"], r["gold"]):
            kinds["more specific than the gold (a sub class)"].append(r)
        elif r["predicted"] and idx.is_a(r["gold"], r["predicted"]):
            kinds["less specific (a super class)"].append(r)
        else:
            kinds["elsewhere"].append(r)
    return kinds


def review_curve(path: str, checkpoints: tuple[int, ...] = (10, 20, 40, 80)) -> None:
    """A person reviews the classifier's output and corrects what is wrong (the gold class stands
    in for the person); each correction also fixes names of the same pattern. Two ways to read:
    names least confident first (the review list), or one name per pattern, largest pattern first."""
    first = evaluate(path)
    rows = sorted((r for r in first.rows if r["in_brick"]), key=lambda r: (not r["flagged"], r["confidence"], r["name"]))
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[classify(r["name"]).pattern].append(r)
    by_pattern = [rs[0] for rs in sorted(groups.values(), key=lambda rs: -len(rs))]
    print(f"\nReview ({len(rows)} names, {len(groups)} patterns; each correction also applies to names of the same pattern):")
    print(f"{'order':28s} {'read':>6s} {'corrections':>11s} {'top-1':>7s}")
    print(f"{'-':28s} {0:6d} {0:11d} {first.accuracy()[0]:7.1%}")
    for label, order in (("names, least confident first", rows), ("patterns, largest first", by_pattern)):
        _review(path, label, order, checkpoints)


def _review(path: str, label: str, order: list[dict], checkpoints: tuple[int, ...]) -> None:
    idx = brick_index()
    fixes: dict[str, str] = {}
    corrections = Corrections()
    reached = None
    for read, r in enumerate(order, 1):
        if not idx.same(corrections.apply(classify(r["name"])).point_class, r["gold"]):
            fixes[r["name"]] = r["gold"]
            corrections = Corrections(fixes)
        last = read == len(order)
        if read in checkpoints or last or reached is None:
            acc = evaluate(path, corrections=corrections).accuracy()[0]
            if reached is None and acc >= 0.9:
                reached = (read, len(fixes), acc)
            if read in checkpoints or last:
                print(f"{label:28s} {read:6d} {len(fixes):11d} {acc:7.1%}")
    if reached:
        print(f"{label}: 90 % after reading {reached[0]} and correcting {reached[1]} ({reached[2]:.1%})")


if __name__ == "__main__":
    main()
