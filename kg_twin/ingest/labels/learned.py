"""A learned point-name classifier (scikit-learn), trained on point names of real Brick models.

It re-ranks candidate classes rather than learning one weight per class, so what it learns carries
over to buildings it has never seen:

1. **Candidates** - the rule classifier's ranked classes (:func:`kg_twin.ingest.labels.classify`,
   reading abbreviations and Brick's tags) and the classes of the most similar training names
   (character 3-5-grams, cosine; names of the building itself never count as neighbours in
   training, so the model learns how far neighbours from *other* buildings can be trusted).
2. **Pair features** (:func:`pair_features`) - the rule score and rank, the neighbours' vote and
   rank, whether the candidate's point function (sensor / setpoint / command / status / alarm ...)
   is the one the name says, and which name words / tag words go with which class tags
   (``sat`` x ``temperature``): associations, not class identities.
3. **Model** - a logistic regression says, for each (name, candidate) pair, how likely the candidate
   is right; the best candidate is the answer and that probability its confidence (calibrated: it
   is the estimated chance of being right, see ``python -m bench.structuring``).

Training data: the shipped corpus (:mod:`kg_twin.ingest.labels.corpus`) and Brick's own class labels.
A fitted model is shipped as ``data/model.pkl.gz`` (``python scripts/train_label_model.py``) and used
when it matches the corpus and the scikit-learn version; otherwise it is trained at first use.

>>> m = default_model()
>>> m.classify("AHU-1 SA-TEMP").point_class.rsplit("#", 1)[1]
'Supply_Air_Temperature_Sensor'
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import math
import pickle
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from kg_twin.ingest.labels.brick import BrickIndex, brick_index
from kg_twin.ingest.labels.classify import classify
from kg_twin.ingest.labels.corpus import CORPUS, Example, load_corpus
from kg_twin.ingest.labels.results import Candidate, Classification
from kg_twin.ingest.labels.tables import DEFAULT_BRICK_VERSION, POINT_FUNCTIONS
from kg_twin.terms import BRICK

log = logging.getLogger(__name__)

MODEL_FILE = Path(__file__).resolve().parent / "data" / "model.pkl.gz"
RULE_K = 10  # rule candidates per name
NEIGHBOURS = 15  # nearest training names per name
BRICK_LABEL_WEIGHT = 0.3  # one Brick class label counts as a third of a building's name
RULE_HEAD_START = 0.35  # added to the probability of the rules' first class, times their confidence
REVIEW_BELOW = 0.5
ASSERT_FROM = 0.1  # a name the rules cannot read stays brick:Point unless a candidate reaches this  # confidence under which an assignment goes to the review list
_LETTERS = re.compile(r"[a-z]+")
Rules = Callable[[str], Classification]


def normalise(name: str) -> str:
    """Letters only, camelCase split, lower case: what the neighbour search compares.

    >>> normalise(":SpruceHall_01:FCU048_UI22_SaTmp")
    'spruce hall fcu ui sa tmp'
    """
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()
    return " ".join(_LETTERS.findall(text))


def _function(cls_name: str) -> str:
    last = cls_name.rsplit("_", 1)[-1].lower()
    return last if last in POINT_FUNCTIONS else "other"


def pair_features(name: str, rule: Classification, cand: str, idx: BrickIndex, votes: dict[str, tuple[float, int, float]]) -> dict[str, float]:
    """Features of one (name, candidate class) pair; ``votes``: class -> (neighbour vote share, rank)."""
    c = idx.classes.get(cand)
    cname = cand.rsplit("#", 1)[-1]
    ctags = set(c.tags) if c is not None else set()
    out: dict[str, float] = {"bias": 1.0}
    rank = next((i for i, x in enumerate(rule.candidates) if x.brick_class == cand), None)
    if rank is not None:
        out["rule_score"] = max(-1.0, min(1.5, rule.candidates[rank].score))
        out[f"rule_rank={min(rank, 5)}"] = 1.0
        out["rule_conf"] = rule.confidence if rank == 0 else 0.0
    else:
        out["rule_absent"] = 1.0
    if cand in votes:
        share, krank, sim = votes[cand]
        out["nn_share"] = share
        out["nn_sim"] = sim
        out["nn_share_sim"] = share * sim
        for lo in (0.5, 0.7, 0.85):
            if sim >= lo:
                out[f"nn_sim>={lo}"] = 1.0
        out[f"nn_rank={min(krank, 5)}"] = 1.0
    else:
        out["nn_absent"] = 1.0
    said = rule.pattern.split(" | ")[1] if " | " in rule.pattern else ""
    fn = _function(cname)
    out[f"fn={fn}|{said}"] = 1.0
    qtags = set(rule.tags)
    hit = len(ctags & qtags)
    out["tag_hit"] = hit / (len(ctags) or 1)
    out["tag_miss"] = len(ctags - qtags - set(POINT_FUNCTIONS)) / (len(ctags) or 1)
    words = set(_LETTERS.findall(normalise(name)))
    for t in ctags - set(POINT_FUNCTIONS):
        for w in words:
            out[f"x={w}|{t}"] = 0.5
        for q in qtags:
            out[f"y={q}|{t}"] = 0.5
    if cand == BRICK + "Point":
        out["generic"] = 1.0
    return out


@dataclass
class LearnedModel:
    """A fitted re-ranker; :meth:`classify` gives a :class:`Classification` with a calibrated confidence."""

    vectorizer: Any  # DictVectorizer of pair features
    ranker: Any  # LogisticRegression: P(candidate is right)
    ngrams: Any  # TfidfVectorizer of normalised names
    train_matrix: Any  # tf-idf rows of the training names
    train_classes: tuple[str, ...]
    train_weights: tuple[float, ...]
    version: str = DEFAULT_BRICK_VERSION
    fingerprint: str = ""
    _cache: dict[str, Classification] = field(default_factory=dict, repr=False)

    def votes(self, names: Sequence[str]) -> list[dict[str, tuple[float, int, float]]]:
        sims = (self.ngrams.transform([normalise(n) for n in names]) @ self.train_matrix.T).toarray()
        return [_votes(row, self.train_classes, self.train_weights, None) for row in sims]

    def classify_many(self, names: Sequence[str], *, k: int = 3, unit: str | None = None, rules: Sequence[Classification] | None = None) -> list[Classification]:
        rules = list(rules) if rules is not None else [classify(n, k=RULE_K, version=self.version, unit=unit) for n in names]
        return [self._rerank(n, r, v, k) for n, r, v in zip(names, rules, self.votes(names))]

    def classify(self, name: str, *, k: int = 3, unit: str | None = None) -> Classification:
        key = f"{name}\x00{unit or ''}\x00{k}"
        if key not in self._cache:
            if len(self._cache) > 50000:
                self._cache.clear()
            self._cache[key] = self.classify_many([name], k=k, unit=unit)[0]
        return self._cache[key]

    def _rerank(self, name: str, rule: Classification, votes: dict[str, tuple[float, int, float]], k: int) -> Classification:
        idx = brick_index(self.version)
        cands = _candidates(rule, votes)
        x = self.vectorizer.transform([pair_features(name, rule, c, idx, votes) for c in cands])
        p = self.ranker.predict_proba(_int32(x))[:, 1]
        # the rules' first class keeps a head start in proportion to their confidence: the learned
        # model overrides a confident rule reading only when it is clearly more sure
        top = rule.candidates[0].brick_class if rule.candidates else None
        ranked = sorted(zip(cands, p), key=lambda cp: (-(cp[1] + (RULE_HEAD_START * rule.confidence if cp[0] == top else 0.0)), cp[0]))
        best, conf = ranked[0]
        if conf < ASSERT_FROM and rule.point_class == BRICK + "Point":
            best = BRICK + "Point"  # the rules read nothing and no candidate is even remotely likely
        why = f"learned re-ranking ({conf:.0%} likely right); rules: {rule.why}"
        return replace(
            rule,
            candidates=[Candidate(c, float(s)) for c, s in ranked[:k]],
            point_class=best,
            confidence=float(conf),
            why=why,
            flagged=conf < REVIEW_BELOW,
            # the rules' own reason ("no known tokens", "names equipment only") says more than "low confidence"
            reason=(rule.reason if rule.reason and rule.reason != "low confidence" else "low confidence") if conf < REVIEW_BELOW else None,
        )


def _int32(x: Any) -> Any:
    import numpy as np

    x = x.tocsr()
    x.indices = x.indices.astype(np.int32)
    x.indptr = x.indptr.astype(np.int32)
    return x


def _votes(sims: Any, classes: Sequence[str], weights: Sequence[float], mask: Any) -> dict[str, tuple[float, int, float]]:
    """Class -> (share of the neighbours' similarity, rank) over the nearest training names."""
    import numpy as np

    s = sims if mask is None else np.where(mask, -1.0, sims)
    top = np.argsort(-s)[:NEIGHBOURS]
    acc: dict[str, float] = {}
    best: dict[str, float] = {}
    for i in top:
        if s[i] <= 0:
            break
        acc[classes[i]] = acc.get(classes[i], 0.0) + float(s[i]) * weights[i]
        best[classes[i]] = max(best.get(classes[i], 0.0), float(s[i]))
    total = sum(acc.values()) or 1.0
    ranked = sorted(acc.items(), key=lambda kv: -kv[1])
    return {c: (v / total, r, best[c]) for r, (c, v) in enumerate(ranked)}


def _candidates(rule: Classification, votes: dict[str, tuple[float, int, float]]) -> list[str]:
    out = [c.brick_class for c in rule.candidates]
    out += [c for c, (_, r, _s) in sorted(votes.items(), key=lambda kv: kv[1][1]) if r < 5]
    return list(dict.fromkeys(out)) or [BRICK + "Point"]


def brick_label_examples(version: str = DEFAULT_BRICK_VERSION) -> list[Example]:
    """Brick's own point classes as examples: the label of each (not deprecated) point class."""
    idx = brick_index(version)
    return [Example(c.label, c.iri, "brick-labels") for c in idx.points if not c.deprecated and c.iri != BRICK + "Point"]


def train(
    examples: Iterable[Example],
    *,
    version: str = DEFAULT_BRICK_VERSION,
    brick_labels: bool = True,
    rules: Rules | None = None,
    fingerprint: str = "",
) -> LearnedModel:
    """Fit the re-ranker on ``examples`` (+ Brick's labels). ``rules(name)`` gives the rule
    classification of a name with :data:`RULE_K` candidates (pass a cache when training often)."""
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    idx = brick_index(version)
    rules = rules or (lambda n: classify(n, k=RULE_K, version=version))
    rows = sorted(examples, key=lambda e: (e.building, e.name, e.brick_class))
    if brick_labels:
        rows += brick_label_examples(version)
    weights = [BRICK_LABEL_WEIGHT if e.building == "brick-labels" else 1.0 + math.log(max(1, e.count)) for e in rows]
    ngrams = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    mat = ngrams.fit_transform([normalise(e.name) for e in rows])
    sims = (mat @ mat.T).toarray()
    buildings = np.array([e.building for e in rows])
    classes = tuple(e.brick_class for e in rows)
    feats: list[dict[str, float]] = []
    ys: list[int] = []
    ws: list[float] = []
    for i, e in enumerate(rows):
        if e.building == "brick-labels":
            continue  # neighbours and votes come from the labels; they are not pairs to learn from
        votes = _votes(sims[i], classes, weights, buildings == e.building)
        rule = rules(e.name)
        cands = _candidates(rule, votes)
        if e.brick_class not in cands:
            cands.append(e.brick_class)  # the right class is always a positive example
        for c in cands:
            feats.append(pair_features(e.name, rule, c, idx, votes))
            ys.append(1 if idx.same(c, e.brick_class) else 0)
            ws.append(weights[i])
    vec = DictVectorizer(sort=True)
    x = _int32(vec.fit_transform(feats))
    ranker = LogisticRegression(C=1.0, max_iter=1000)
    ranker.fit(x, ys, sample_weight=ws)
    return LearnedModel(vec, ranker, ngrams, mat, classes, tuple(weights), version, fingerprint)


def corpus_fingerprint(path: Path = CORPUS) -> str:
    """sha256 of the corpus and the scikit-learn version: a shipped model is used only when they match."""
    import sklearn

    return hashlib.sha256(path.read_bytes() + sklearn.__version__.encode()).hexdigest()


def save(model: LearnedModel, path: Path = MODEL_FILE) -> None:
    model._cache.clear()
    path.write_bytes(gzip.compress(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), mtime=0))


@lru_cache(maxsize=2)
def default_model(version: str = DEFAULT_BRICK_VERSION) -> LearnedModel:
    """The model of the shipped corpus: the shipped fit when it matches, else trained now (once per process)."""
    fp = corpus_fingerprint()
    if MODEL_FILE.exists() and version == DEFAULT_BRICK_VERSION:
        # the package's own file, written by scripts/train_label_model.py (never a user-supplied path)
        model = pickle.loads(gzip.decompress(MODEL_FILE.read_bytes()))
        if isinstance(model, LearnedModel) and model.fingerprint == fp:
            return model
        log.info("the shipped label model does not match the corpus / scikit-learn version: training it")
    return train(load_corpus(), version=version, fingerprint=fp)


CLASSIFIERS = ("learned", "rules")


def classify_point(name: str, *, unit: str | None = None, k: int = 3, method: str = "learned") -> Classification:
    """One point name -> Brick class with the ingest's classifier: the learned re-ranker (default) or
    the rules alone (``method="rules"``, a mapping's ``entity.class.classifier: rules``).

    >>> classify_point("RM101 CO2", method="rules").point_class.rsplit("#", 1)[1]
    'CO2_Sensor'
    """
    if method == "rules":
        return classify(name, k=k, unit=unit)
    if method != "learned":
        raise ValueError(f"classifier {method!r} is not one of {', '.join(CLASSIFIERS)}")
    return default_model().classify(name, k=k, unit=unit)
