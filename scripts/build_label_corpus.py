"""Build kg_twin/ingest/labels/data/corpus.csv: (point name, Brick class, building) pairs.

    python scripts/build_label_corpus.py BUILDING=MODEL.ttl ... [--eval tests/data/labels/eval.csv]

Each ``BUILDING=MODEL`` is a Brick model of one building (any Brick version; see
``kg_twin.ingest.labels.corpus.points_of_model``). ``--eval`` adds the rows of the hand-checked
216-name set, grouped by building (smallOffice, the Brick / py-brickschema example models).
The models used for the shipped corpus and their licences are listed in
``kg_twin/ingest/labels/data/README.md``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg_twin.ingest.labels.brick import brick_index  # noqa: E402
from kg_twin.ingest.labels.corpus import CORPUS, Example, points_of_model, write_corpus  # noqa: E402
from kg_twin.terms import BRICK  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", help="BUILDING=path/to/model.ttl")
    ap.add_argument("--eval", default=None, help="an eval CSV (name,brick_class,source,split) to add, grouped by source")
    ap.add_argument("--out", default=str(CORPUS))
    a = ap.parse_args()
    idx = brick_index()
    out: list[Example] = []
    for spec in a.models:
        building, _, path = spec.partition("=")
        got = points_of_model(path, building, idx=idx)
        print(f"{building}: {len(got)} typed points", file=sys.stderr)
        out += got
    if a.eval:
        with open(a.eval, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                cls = BRICK + r["brick_class"].split(":", 1)[1]
                if cls in idx.classes:
                    building = "smallOffice" if "smallOffice" in r["source"] else "brick-examples"
                    out.append(Example(r["name"], idx.canonical(cls), building))
    write_corpus(out, Path(a.out))
    print(f"{len(out)} examples -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
