"""Candidates and scores: blocking, the measures of a specification, one score per pair, thresholds.

Blocking proposes the pairs worth scoring, so n × m is never enumerated: identifiers by a hash join,
room numbers and label words by an inverted index, geometries by a shapely ``STRtree`` (``intersects``
for overlap and containment, ``dwithin`` for distance). Every proposed pair is then scored by every
measure; the scores combine by ``aggregate``; ``match`` keeps one target per source (and the
reverse), and the thresholds sort what is left into accepted and to-review candidates.

>>> from kg_twin.links.spec import parse_spec
>>> spec = parse_spec("name: ids\\nsource: {}\\ntarget: {}\\nmeasures: [{type: id}]\\nrelation: owl:sameAs")
>>> src = Entities.of([("http://x/a", (), (), ("42",), None), ("http://x/b", (), (), ("7",), None)])
>>> tgt = Entities.of([("http://y/1", (), (), (" 42",), None)])
>>> [(c.source, c.target, c.score, c.status) for c in match(spec, src, tgt)]
[('http://x/a', 'http://y/1', 1.0, 'accepted')]
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import shapely

from kg_twin.links import measures as M
from kg_twin.links.spec import OWL, LinkSpec, Measure

MAX_BLOCK = 1000  # a label word or room number shared by more entities than this proposes nothing


@dataclass
class Entities:
    """The entities of one side, column-wise; ``geoms`` in the specification's metric CRS."""

    iris: list[str]
    classes: list[frozenset[str]]
    labels: list[tuple[str, ...]]
    ids: list[tuple[str, ...]]
    geoms: np.ndarray  # shapely geometries (None where missing)

    def __len__(self) -> int:
        return len(self.iris)

    @classmethod
    def of(cls, rows: Sequence[tuple[str, Iterable[str], Iterable[str], Iterable[str], object]]) -> "Entities":
        """From ``(iri, classes, labels, ids, geometry)`` rows (geometry: shapely, already metric)."""
        return cls(
            iris=[r[0] for r in rows],
            classes=[frozenset(r[1]) for r in rows],
            labels=[tuple(r[2]) for r in rows],
            ids=[tuple(r[3]) for r in rows],
            geoms=np.array([r[4] for r in rows], dtype=object),
        )


@dataclass
class Candidate:
    source: str
    target: str
    score: float
    scores: dict[str, float]
    status: str  # accepted | review
    predicate: str
    decision: str | None = field(default=None)  # accepted | rejected, by a person


def _index(keys: Iterable[Iterable[str]]) -> dict[str, list[int]]:
    idx: dict[str, list[int]] = defaultdict(list)
    for i, ks in enumerate(keys):
        for k in set(ks):
            idx[k].append(i)
    return idx


def _join(a: Iterable[Iterable[str]], b: Iterable[Iterable[str]], *, cap: int | None = None) -> set[tuple[int, int]]:
    ib = _index(b)
    out: set[tuple[int, int]] = set()
    for i, ks in enumerate(a):
        for k in set(ks):
            js = ib.get(k)
            if js and (cap is None or len(js) <= cap):
                out.update((i, j) for j in js)
    return out


def _words(labels: tuple[str, ...]) -> set[str]:
    return {w for x in labels for w in M.normalise_label(x).split() if len(w) > 1}


def block(spec: LinkSpec, src: Entities, tgt: Entities) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (source index array, target index array) proposed by the blocking measures."""
    pairs: set[tuple[int, int]] = set()
    chunks: list[np.ndarray] = []
    for m in spec.measures:
        if not m.block:
            continue
        if m.type == "id":
            pairs |= _join(([M.normalise_id(v, m.normalise) for v in ids] for ids in src.ids), ([M.normalise_id(v, m.normalise) for v in ids] for ids in tgt.ids))
        elif m.type == "room":
            pairs |= _join((M.room_keys(x) for x in src.labels), (M.room_keys(x) for x in tgt.labels), cap=MAX_BLOCK)
        elif m.type == "label":
            pairs |= _join((_words(x) for x in src.labels), (_words(x) for x in tgt.labels), cap=MAX_BLOCK)
        elif m.type in ("iou", "contains", "distance"):
            chunks.append(_spatial_pairs(m, src.geoms, tgt.geoms))
    if pairs:
        chunks.append(np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2))
    if not chunks:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    allp = np.concatenate(chunks)
    keys = np.unique(allp[:, 0] * max(len(tgt), 1) + allp[:, 1])  # one key per pair: a 1-D unique is fast
    return keys // max(len(tgt), 1), keys % max(len(tgt), 1)


def _spatial_pairs(m: Measure, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ok_a = np.flatnonzero(np.array([g is not None for g in a], dtype=bool)) if len(a) else np.empty(0, dtype=np.int64)
    ok_b = np.flatnonzero(np.array([g is not None for g in b], dtype=bool)) if len(b) else np.empty(0, dtype=np.int64)
    if not len(ok_a) or not len(ok_b):
        return np.empty((0, 2), dtype=np.int64)
    tree = shapely.STRtree(b[ok_b])
    if m.type == "distance":
        qa = shapely.centroid(a[ok_a]) if m.of == "centroid" else a[ok_a]
        if m.of == "centroid":
            tree = shapely.STRtree(shapely.centroid(b[ok_b]))
        ia, ib = tree.query(qa, predicate="dwithin", distance=m.max)
    else:
        ia, ib = tree.query(a[ok_a], predicate="intersects")
    return np.column_stack([ok_a[ia], ok_b[ib]])


def _score(m: Measure, src: Entities, tgt: Entities, si: np.ndarray, ti: np.ndarray) -> np.ndarray:
    if m.type in ("iou", "contains", "distance"):
        a, b = src.geoms[si], tgt.geoms[ti]
        missing = np.array([x is None or y is None for x, y in zip(a, b)], dtype=bool)
        a = np.where(missing, None, a)
        b = np.where(missing, None, b)
        if m.type == "iou":
            v = M.iou(a, b)
        elif m.type == "contains":
            v = M.contains(a, b)
        else:
            v = M.distance_score(a, b, m.max, m.of)
        return np.where(missing, 0.0, v)
    out = np.zeros(len(si))
    for k, (i, j) in enumerate(zip(si.tolist(), ti.tolist())):
        if m.type == "id":
            a_ids = {M.normalise_id(v, m.normalise) for v in src.ids[i]}
            out[k] = 1.0 if a_ids & {M.normalise_id(v, m.normalise) for v in tgt.ids[j]} else 0.0
        elif m.type == "room":
            out[k] = M.room_score(src.labels[i], tgt.labels[j])
        elif m.type == "label":
            out[k] = M.label_score(src.labels[i], tgt.labels[j])
        elif m.type == "class":
            out[k] = 1.0 if any(c in src.classes[i] and d in tgt.classes[j] for c, d in m.compatible) else 0.0
    return out


def score(spec: LinkSpec, src: Entities, tgt: Entities, si: np.ndarray, ti: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """(combined score, per-measure scores, keep mask) of the pairs ``(si[k], ti[k])``."""
    per: dict[str, np.ndarray] = {}
    keep = np.ones(len(si), dtype=bool)
    cols, weights = [], []
    for n, m in enumerate(spec.measures):
        v = _score(m, src, tgt, si, ti)
        per[f"{m.type}" if m.type not in per else f"{m.type}{n}"] = v
        if m.min is not None:
            keep &= v >= m.min
        cols.append(v)
        weights.append(m.weight)
    stack = np.vstack(cols) if cols else np.zeros((1, len(si)))
    if spec.aggregate == "min":
        total = stack.min(axis=0)
    elif spec.aggregate == "max":
        total = stack.max(axis=0)
    else:
        w = np.array(weights, dtype=float)[:, None]
        total = (stack * w).sum(axis=0) / max(float(w.sum()), 1e-12)
    return total, per, keep


def _select(spec: LinkSpec, si: np.ndarray, ti: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, set[int]]:
    """Indexes of the pairs ``match`` keeps, best score first, and those that are ambiguous: a source
    (or target) with two best candidates of equal score keeps both, and neither can be accepted
    without a person ("RM101" when the model has A101 and B101)."""
    order = np.lexsort((ti, si, -total))  # best first, ties in a stable order
    if spec.match == "all":
        return order, set()
    by_s: dict[int, tuple[float, int]] = {}
    by_t: dict[int, tuple[float, int]] = {}
    kept: list[int] = []
    ambiguous: set[int] = set()
    for k in order.tolist():
        s, t, v = int(si[k]), int(ti[k]), float(total[k])
        clash = []
        if spec.match in ("one_to_one", "best_per_source") and s in by_s:
            clash.append(by_s[s])
        if spec.match in ("one_to_one", "best_per_target") and t in by_t:
            clash.append(by_t[t])
        if clash:
            ties = [j for best, j in clash if abs(best - v) < 1e-9]
            if len(ties) < len(clash) or not ties:
                continue
            ambiguous.update(ties)
            ambiguous.add(k)
        by_s.setdefault(s, (v, k))
        by_t.setdefault(t, (v, k))
        kept.append(k)
    return np.array(kept, dtype=np.int64), ambiguous


def predicate_for(spec: LinkSpec, score: float) -> str:
    """The relation an accepted pair gets: ``owl:sameAs`` only at the identity threshold."""
    if spec.relation == OWL + "sameAs" and score < (spec.identity if spec.identity is not None else spec.accept):
        return spec.fallback
    return spec.relation


def match(spec: LinkSpec, src: Entities, tgt: Entities, *, rejected: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset()) -> list[Candidate]:
    """Accepted and to-review candidates of a specification, best first; ``rejected`` pairs (a person's
    decisions) are never proposed again, so the next best target can take their place."""
    si, ti = block(spec, src, tgt)
    if not len(si):
        return []
    total, per, keep = score(spec, src, tgt, si, ti)
    keep &= total >= spec.review
    if rejected:
        keep &= np.array([(src.iris[i], tgt.iris[j]) not in rejected for i, j in zip(si.tolist(), ti.tolist())], dtype=bool)
    si, ti, total = si[keep], ti[keep], total[keep]
    per = {k: v[keep] for k, v in per.items()}
    out = []
    kept, ambiguous = _select(spec, si, ti, total)
    totals = np.round(total, 6).tolist()
    pers = {n: np.round(v, 6).tolist() for n, v in per.items()}
    sis, tis = si.tolist(), ti.tolist()
    for k in kept.tolist():
        s = totals[k]
        out.append(Candidate(
            source=src.iris[sis[k]], target=tgt.iris[tis[k]], score=s,
            scores={n: v[k] for n, v in pers.items()},
            status="accepted" if s >= spec.accept and k not in ambiguous else "review", predicate=predicate_for(spec, s),
        ))
    return out
