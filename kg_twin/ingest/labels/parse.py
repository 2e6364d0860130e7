"""Point name -> tokens -> Brick tag words: equipment and room references, splitting, abbreviations."""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from typing import Iterable

from kg_twin.ingest.labels.brick import BrickIndex, brick_index
from kg_twin.ingest.labels.results import EquipmentRef
from kg_twin.ingest.labels.tables import (
    ABBREVIATIONS,
    AIR_STREAMS,
    EQUIPMENT_ABBREVIATIONS,
    EQUIPMENT_PREFIXES,
    EQUIPMENT_WORDS,
    FUNCTION_SUFFIXES,
    POINT_FUNCTIONS,
    QUANTITIES,
    SETPOINT_WORDS,
    STATIC_PLACES,
    _SYNONYMS,
)
from kg_twin.terms import BRICK


_ROOM_RE = re.compile(
    r"(?<![A-Za-z])(?:(?:rm|room|salle|raum|local|sala)[-_ ]?(\d+(?:\.\d+)?[A-Za-z]?)|R(\d{3,4}[A-Za-z]?))(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_EQUIP_RE = re.compile(
    r"(?<![A-Za-z])(" + "|".join(sorted(EQUIPMENT_ABBREVIATIONS, key=len, reverse=True)) + r")"
    r"([-_ ]?\d+(?:[-_.]\d+)*[A-Za-z]?)(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEP_RE = re.compile(r"[\s_\-./:,;()\[\]#|\\]+")
_SPECIAL = {"co2": "co2", "pm2.5": "pm2.5", "pm25": "pm2.5", "pm10": "pm10", "pm1": "pm1", "h2o": "h2o", "no2": "no2", "o3": "o3"}


def _split(text: str) -> list[str]:
    out: list[str] = []
    text = re.sub(r"(?i)pm2\.5", "pm25", text)
    for chunk in _SEP_RE.split(text):
        if not chunk:
            continue
        low = chunk.lower()
        if low in _SPECIAL:
            out.append(_SPECIAL[low])
            continue
        if low in ABBREVIATIONS and len(low) <= 5 and not low.isupper() and chunk != chunk.lower():
            out.append(low)  # "kWh", "degF": a unit written in mixed case, not camelCase words
            continue
        # camelCase ("SupplyAirTemp") splits; an all-caps token with a stray lower-case letter
        # ("CLGMiNFLO") is a typing slip, not camelCase
        stray = re.fullmatch(r"[A-Z0-9]*(?:[a-z][A-Z0-9]+)*[a-z]?", chunk) and sum(ch.isupper() for ch in chunk) >= 3
        for part in [chunk] if stray else _CAMEL_RE.split(chunk):
            # letter/digit boundaries, but keep known chemical tokens (CO2, PM2.5)
            for m in re.finditer(r"co2|pm2\.?5|pm10|[a-z]+|\d+(?:\.\d+)?", part.lower()):
                tok = m.group(0)
                out.append(_SPECIAL.get(tok, tok))
    return out


def _split_equipment_prefix(tokens: list[str], vocab: set[str]) -> list[str]:
    """Cut a leading equipment code off tokens the tables do not otherwise read ("sfs" -> sf, s)."""
    out: list[str] = []
    for tok in tokens:
        if tok in ABBREVIATIONS or tok in vocab or tok in EQUIPMENT_WORDS or not tok.isalpha() or _segment(tok, vocab):
            out.append(tok)
            continue
        for eq in EQUIPMENT_PREFIXES:
            tail = tok[len(eq) :]
            if tok.startswith(eq) and tail and (tail in ABBREVIATIONS or tail in vocab or _segment(tail, vocab)):
                out.extend((eq, tail))
                break
        else:
            out.append(tok)
    return out


def _segment(token: str, vocab: set[str]) -> list[str] | None:
    """Split a run-together token ("sats", "oadmprpos") into known pieces, fewest pieces first."""
    n = len(token)
    if n < 2 or n > 40:
        return None
    best: list[tuple[float, list[str]] | None] = [None] * (n + 1)
    best[0] = (0.0, [])
    for i in range(n):
        if best[i] is None:
            continue
        cost_i, parts_i = best[i]  # type: ignore[misc]
        for j in range(i + 1, n + 1):
            piece = token[i:j]
            if piece in ABBREVIATIONS or (len(piece) >= 3 and piece in vocab):
                cost = cost_i + (1.6 if len(piece) == 1 else 1.0)
                if best[j] is None or cost < best[j][0]:  # type: ignore[index]
                    best[j] = (cost, parts_i + [piece])
    found = best[n]
    if found is None or len(found[1]) < 2:
        return None
    singles = [ABBREVIATIONS.get(p, (p,)) for p in found[1] if len(p) == 1]
    if sum(1 for exp in singles if QUANTITIES & set(exp)) > 1:
        return None  # "AH" is not A+H (current and humidity): one point measures one quantity
    if any(QUANTITIES & set(exp) for exp in singles) and sum(1 for p in found[1] if QUANTITIES & set(ABBREVIATIONS.get(p, (p,)))) > 1:
        return None  # nor is "TEMPSETF" TEMP+SET+F (a temperature and a flow)
    if any(len(p) == 1 and set(ABBREVIATIONS.get(p, ())) & set(POINT_FUNCTIONS) for p in found[1][:-1]):
        return None  # a one-letter function (S, C) ends a name: "SATS" = SA+T+S, "FSCHW" is not F+S+CHW
    return found[1]


def _expand(tokens: list[str], vocab: set[str]) -> tuple[list[tuple[str, int]], list[str], list[str]]:
    """Tokens -> (tags with the index of their token, unknown tokens, explanation pieces)."""
    tags: _Tags = _Tags()
    unknown: list[str] = []
    notes: list[str] = []
    for pos, tok in enumerate(tokens):
        tags.pos = pos
        if tok == "sp" and (any(t in SETPOINT_WORDS for t in tokens[pos + 1 :]) or (pos and tokens[pos - 1] in STATIC_PLACES)):
            tags.extend(("static", "pressure"))  # "SA SP SP", "DUCT SP STPT": the first SP is the static pressure
            notes.append("SP=static pressure")
            continue
        if tok.isdigit() or re.fullmatch(r"\d+(\.\d+)?", tok):
            continue
        if len(tok) == 1 and pos == 0 and len(tokens) > 1 and tok.isalpha():
            notes.append(f"{tok.upper()}: an identifier")  # "A_ts", "B-SAT": a leading letter names the unit
            continue
        if tok in ABBREVIATIONS and (len(tok) <= 5 or tok not in vocab):
            exp = ABBREVIATIONS[tok]
            tags.extend(exp)
            if exp != (tok,):
                notes.append(f"{tok.upper()}={' '.join(exp)}")
            continue
        if tok in vocab:
            tags.append(tok)
            continue
        singular = tok[:-1] if tok.endswith("s") and len(tok) > 3 else None
        if singular and singular in vocab:
            tags.append(singular)
            continue
        seg = _segment(tok, vocab)
        if seg is None:
            # a function code glued to a word the tables do not know ("COMMONSP" = COMMON + SP):
            # the function is read, the rest stays unknown
            suffix = next((f for f in FUNCTION_SUFFIXES if tok.endswith(f) and len(tok) - len(f) >= 3), None)
            if suffix:
                head = tok[: -len(suffix)]
                head_seg = [head] if head in vocab else _segment(head, vocab)
                if head_seg is None:
                    unknown.append(head)
                else:
                    for piece in head_seg:
                        tags.extend(ABBREVIATIONS.get(piece, (piece,)))
                tags.extend(ABBREVIATIONS[suffix])
                notes.append(f"{tok.upper()}={head.upper()}+{suffix.upper()}")
                continue
        exp_all: list[str] = []
        for piece in seg or ():
            exp_all.extend(ABBREVIATIONS.get(piece, (piece,)))
        if seg and sum(1 for t in exp_all if t in POINT_FUNCTIONS) > 1:
            seg = None  # "PSC" = P+S+C (sensor, command), "CRAC" = C+RA+C: a name has one function
        if seg:
            tags.extend(exp_all)
            notes.append(f"{tok.upper()}={'+'.join(p.upper() for p in seg)}={' '.join(exp_all)}")
            continue
        near = _misspelt(tok, vocab)
        if near:
            tags.append(near)
            notes.append(f"{tok.upper()}: read as {near!r} (one letter off)")
            continue
        unknown.append(tok)
    return tags.items, unknown, notes


_NEAR: dict[int, dict[str, set[tuple[str, int]]]] = {}


def _misspelt(tok: str, vocab: set[str]) -> str | None:
    """The one Brick word a long unknown token is a one-letter typo of: a letter left out
    ("capacty"), one too many ("differiential") or one wrong ("presdure")."""
    if len(tok) < 6 or not tok.isalpha():
        return None
    key = id(vocab)
    if key not in _NEAR:
        index: dict[str, set[tuple[str, int]]] = defaultdict(set)
        for w in vocab:
            if len(w) >= 5 and w.isalpha():
                index[w].add((w, -1))
                for i in range(len(w)):
                    index[w[:i] + w[i + 1 :]].add((w, i))
        _NEAR[key] = index
    index = _NEAR[key]
    found = {w for w, i in index.get(tok, ()) if i >= 0}  # a letter left out
    for i in range(len(tok)):
        for w, j in index.get(tok[:i] + tok[i + 1 :], ()):
            if j == -1 or j == i:  # a letter too many / a letter wrong
                found.add(w)
    found.discard(tok)
    return next(iter(found)) if len(found) == 1 else None


class _Tags:
    """Collects (tag, token index) pairs; ``append`` / ``extend`` use the current index."""

    def __init__(self) -> None:
        self.items: list[tuple[str, int]] = []
        self.pos = 0

    def append(self, tag: str) -> None:
        self.items.append((tag, self.pos))

    def extend(self, tags: Iterable[str]) -> None:
        for t in tags:
            self.append(t)


def _tagify(words: Iterable[tuple[str, int]], idx: BrickIndex, n_tokens: int) -> dict[str, float]:
    """Map words to Brick tag words; weight each by position (the end of a name says what the point is)."""
    out: dict[str, float] = {}
    for w, pos in words:
        weight = 1.0 if n_tokens <= 1 else 0.5 + 0.5 * pos / (n_tokens - 1)
        w = _SYNONYMS.get(w, w)
        if w not in idx.vocabulary:
            # Brick writes some tags shorter / longer than names do (cool / cooling)
            for alt in (w + "ing", w[:-3] if w.endswith("ing") else None, w + "s", w[:-1] if w.endswith("s") else None):
                if alt and alt in idx.vocabulary:
                    w = alt
                    break
        out[w] = max(out.get(w, 0.0), weight)
    return out


def _keep_last_air_stream(weights: dict[str, float], words: list[tuple[str, int]]) -> None:
    """Of several air streams named, keep the last one ("Core_ZN ... Outdoor-Air-Node": outside air)."""
    if "differential" in weights:
        return  # a difference between two streams names both
    last: dict[str, int] = {}
    for w, pos in words:
        w = _SYNONYMS.get(w, w)
        if w in AIR_STREAMS:
            last[AIR_STREAMS[w]] = pos
    if len(last) < 2:
        return
    keep = max(last, key=last.__getitem__)
    for w in list(weights):
        if w in AIR_STREAMS and AIR_STREAMS[w] != keep:
            del weights[w]


@lru_cache(maxsize=1)
def _equipment_classes() -> dict[str, str | None]:
    idx = brick_index()
    return {k: (BRICK + v if BRICK + v in idx.classes else None) for k, v in EQUIPMENT_ABBREVIATIONS.items()}


def find_equipment(name: str) -> tuple[list[EquipmentRef], str]:
    """Equipment references in a name and the name with them cut out."""
    classes = _equipment_classes()
    refs: list[EquipmentRef] = []

    def cut(m: re.Match[str]) -> str:
        kind = m.group(1).lower()
        refs.append(EquipmentRef(token=m.group(0), kind=kind, brick_class=classes.get(kind)))
        return " "

    rest = _EQUIP_RE.sub(cut, name)
    return refs, rest


def find_room(name: str) -> tuple[str | None, str]:
    m = _ROOM_RE.search(name)
    if not m:
        return None, name
    return m.group(0).strip(), name[: m.start()] + " " + name[m.end() :]
