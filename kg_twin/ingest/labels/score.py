"""Scoring Brick point classes against the tags of a parsed name."""

from __future__ import annotations

from functools import lru_cache

from kg_twin.ingest.labels.brick import BrickClass, BrickIndex, brick_index
from kg_twin.ingest.labels.results import Candidate
from kg_twin.ingest.labels.tables import CONTEXT_WORDS, POINT_FUNCTIONS, _FREE_WITH, _IMPLICIT
from kg_twin.terms import BRICK


def _function_of(c: BrickClass) -> str | None:
    """A point class's function is the last word of its name (Min_Position_Setpoint_Limit: a limit,
    though it is tagged setpoint too); other classes: the first function tag."""
    last = c.name.rsplit("_", 1)[-1].lower()
    if last in POINT_FUNCTIONS:
        return last
    for f in POINT_FUNCTIONS:
        if f in c.tags:
            return f
    return None


def _score(
    q: dict[str, float],
    c: BrickClass,
    idx: BrickIndex,
    function: str | None,
    default_function: str,
    bonus: dict[str, float] | None = None,
    unknown: tuple[str, ...] = (),
) -> float:
    vocab = c.tags | c.words
    qs = set(q)
    free: set[str] = set()
    for t in qs:
        free |= _FREE_WITH.get(t, set()) | idx.implied.get(t, frozenset())  # PM2.5 implies particulate matter

    def w(t: str) -> float:
        return q[t] * idx.idf.get(t, 2.0) * (0.3 if t in CONTEXT_WORDS else 1.0)

    matched = sum(w(t) for t in qs if t in vocab)
    if matched == 0 and not (function and bonus and any(t in vocab for t in bonus)):
        return -1.0  # (a class named after the point's equipment may still fit a named function: "CW Pump Status")
    # a query word the class's definition uses (not its tags / label) is only half missing
    missing = sum(w(t) * (0.5 if t in c.defwords else 1.0) for t in qs if t not in vocab)
    extra = 0.0
    for t in c.tags - qs - free:
        if t in POINT_FUNCTIONS:
            continue  # judged below
        extra += _IMPLICIT.get(t, 1.0) * idx.idf.get(t, 1.0)
    total = sum(w(t) for t in qs) or 1.0
    if bonus:  # context (the point's equipment): counts when it matches, costs nothing when not
        matched += sum(bw * idx.idf.get(t, 1.0) for t, bw in bonus.items() if t in vocab and t not in qs)
        extra -= sum(_IMPLICIT.get(t, 1.0) * idx.idf.get(t, 1.0) for t in bonus if t in c.tags and t not in qs and t not in POINT_FUNCTIONS)
    raw = (matched - 0.3 * missing - 0.45 * extra) / total
    if unknown:  # words the parser did not understand but the definition uses ("luminaire", "battery")
        raw += 0.03 * sum(1 for u in unknown if u in c.defwords)
    fn = _function_of(c)
    if function is not None:
        if fn != function:
            raw -= 0.4
    elif fn != default_function:
        raw -= 0.2
    if c.deprecated:
        raw -= 0.02  # current names win ties
    return raw


@lru_cache(maxsize=65536)
def _rank(
    version: str,
    q_items: tuple[tuple[str, float], ...],
    bonus_items: tuple[tuple[str, float], ...],
    function: str | None,
    default_function: str,
    qctx_items: tuple[tuple[str, float], ...],
    unknown: tuple[str, ...] = (),
) -> list[Candidate]:
    """Score the Brick point classes for one parsed name (cached: point lists repeat patterns).

    Only classes sharing a tag or label word with the query can score above -1, so only those are
    scored (inverted index).
    """
    idx = brick_index(version)
    q, bonus, q_ctx = dict(q_items), dict(bonus_items), dict(qctx_items)
    if not q and not function:
        return []
    only_function = not q
    if only_function and bonus:
        q, bonus = dict(bonus), {}  # "RAF1 status": the equipment says what the status is about
    pool: set[str] = set()
    for t in set(q) | set(q_ctx):
        pool.update(idx.by_tag.get(t, ()))
    if only_function and function:
        pool.update(idx.by_tag.get(function, ()))
    if function and bonus:
        fn_classes = set(idx.by_tag.get(function, ()))
        for t in bonus:
            pool.update(c for c in idx.by_tag.get(t, ()) if c in fn_classes)
    scored: list[Candidate] = []
    for iri in sorted(pool):
        c = idx.classes[iri]
        canon = idx.classes.get(idx.canonical(iri))
        if canon is not None and canon.iri != iri and not canon.tags & (set(q) | set(q_ctx)):
            # a replaced class is emitted as its replacement: when that shares no word with the
            # name, score the replacement (Heat_Sensor -> Temperature_Sensor is no match for "HTG FLOW")
            c = canon
        s = _score(q, c, idx, function, default_function, bonus, unknown) if q else -1.0
        if only_function and c.tags == {function}:
            s = max(s, 0.3 if q else 1.0)
        if q_ctx:
            s = max(s, _score(q_ctx, c, idx, function, default_function, bonus, unknown) - 0.02)
        scored.append(Candidate(c.iri, s))
    scored.sort(key=lambda c: (-c.score, len(idx.classes[c.brick_class].tags), c.brick_class))
    if function and scored and _function_of(idx.classes[scored[0].brick_class]) != function:
        # the name says "status" but no status class fits its other words: a status it is, even a
        # generic one ("CHW SYS CHWP1 STS"), rather than a sensor of the same words
        right = next((c for c in scored if c.score > -1 and _function_of(idx.classes[c.brick_class]) == function), None)
        bare = BRICK + function.capitalize()
        pick = right.brick_class if right else bare if bare in idx.classes else None
        if pick:
            scored.insert(0, Candidate(pick, max(0.05, right.score) if right else 0.05))
    return scored
