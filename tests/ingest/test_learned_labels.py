"""The learned point-name classifier (kg_twin/ingest/labels/learned.py) and its training corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.label_lobo import score
from kg_twin.ingest.labels import brick_index, classify
from kg_twin.ingest.labels.corpus import load_corpus, points_of_model
from kg_twin.ingest.labels.learned import MODEL_FILE, classify_point, corpus_fingerprint, default_model, train
from kg_twin.terms import BRICK

DATA = Path(__file__).resolve().parents[1] / "data"


def test_shipped_model_matches_the_corpus() -> None:
    """Rebuild with `python scripts/train_label_model.py` after changing corpus.csv or scikit-learn."""
    assert MODEL_FILE.exists()
    assert default_model().fingerprint == corpus_fingerprint()


def test_points_of_a_brick_model() -> None:
    got = points_of_model(DATA / "brick" / "g36-vav-a2.ttl", "g36")
    idx = brick_index()
    assert got and all(e.brick_class in idx.classes and idx.is_a(e.brick_class, BRICK + "Point") for e in got)
    assert all(e.brick_class != BRICK + "Point" for e in got)


def test_corpus_has_several_real_buildings() -> None:
    by_building: dict[str, int] = {}
    for e in load_corpus():
        by_building[e.building] = by_building.get(e.building, 0) + e.count
    assert {"ebu3b", "ghc", "rice", "soda", "sprucehall"} <= set(by_building) and sum(by_building.values()) > 15000


def test_confident_rule_reading_is_kept() -> None:
    c = classify_point("VAV-2-03 ZN-T")
    assert c.point_class == BRICK + "Zone_Air_Temperature_Sensor"
    assert classify_point("XQZ-77").flagged


@pytest.mark.slow
def test_learned_beats_rules_on_an_unseen_building() -> None:
    """Trained without smallOffice, scored on it (EnergyPlus names), against the rules on the same names."""
    corpus = load_corpus()
    test = [e for e in corpus if e.building == "smallOffice"]
    model = train([e for e in corpus if e.building in ("mediumOffice", "brick-examples", "sprucehall")], brick_labels=False)
    learned = score(test, model.classify_many([e.name for e in test]))
    rules = score(test, [classify(e.name) for e in test])
    assert learned["strict"] >= rules["strict"] and learned["entailing"] >= 0.9, (learned, rules)
