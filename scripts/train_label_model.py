"""Train the shipped point-name model: kg_twin/ingest/labels/data/model.pkl.gz.

    python scripts/train_label_model.py

Fits :func:`kg_twin.ingest.labels.learned.train` on ``data/corpus.csv`` (built by
``scripts/build_label_corpus.py``) and Brick's labels, and stamps it with the corpus / scikit-learn
fingerprint; ``default_model()`` uses the file only while both match, else it trains at first use.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg_twin.ingest.labels.corpus import load_corpus  # noqa: E402
from kg_twin.ingest.labels.learned import MODEL_FILE, corpus_fingerprint, save, train  # noqa: E402


def main() -> None:
    t0 = time.perf_counter()
    model = train(load_corpus(), fingerprint=corpus_fingerprint())
    save(model)
    print(f"trained in {time.perf_counter() - t0:.1f}s -> {MODEL_FILE} ({MODEL_FILE.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
