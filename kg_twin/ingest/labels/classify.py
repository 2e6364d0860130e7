"""classify(): one point name -> ranked Brick point classes with a confidence and a readable why."""

from __future__ import annotations

from kg_twin.ingest.labels.brick import brick_index
from kg_twin.ingest.labels.parse import _expand, _keep_last_air_stream, _split, _split_equipment_prefix, _tagify, find_equipment, find_room
from kg_twin.ingest.labels.brick import _words
from kg_twin.ingest.labels.results import Candidate, Classification
from kg_twin.ingest.labels.score import _rank
from kg_twin.ingest.labels.tables import (
    ABBREVIATIONS,
    ACTUATED,
    AIR_STREAMS,
    CONTEXT_WORDS,
    DEFAULT_BRICK_VERSION,
    DRIVE_WORDS,
    EQUIPMENT_ABBREVIATIONS,
    EQUIPMENT_WORDS,
    IMPLIED,
    PHRASES,
    PLACE_WORDS,
    POINT_FUNCTIONS,
    PROCESSES,
    QUANTITIES,
    SENSOR_WORDS,
    UNIT_QUANTITIES,
)
from kg_twin.terms import BRICK


def classify(
    name: str,
    k: int = 3,
    *,
    version: str = DEFAULT_BRICK_VERSION,
    min_confidence: float = 0.5,
    unit: str | None = None,
) -> Classification:
    """Classify one point name; see the module doc.

    ``unit`` (a QUDT unit IRI, e.g. from a point list's units column) hints the quantity when the
    name does not say it: "AHU-1 SA" in degF is a supply air temperature.

    >>> classify("AHU-1 SA", unit="http://qudt.org/vocab/unit/DEG_F").point_class.rsplit("#", 1)[1]
    'Supply_Air_Temperature_Sensor'
    """
    idx = brick_index(version)
    equipment, rest = find_equipment(name)
    room, rest = find_room(rest)
    for pattern, replacement in PHRASES:
        rest = pattern.sub(replacement, rest)
    tokens = _split_equipment_prefix(_split(rest), idx.vocabulary)
    context_words = [t for t in tokens if t in EQUIPMENT_WORDS and t not in ABBREVIATIONS]
    tokens = [t for t in tokens if t not in context_words]
    if DRIVE_WORDS & set(tokens + context_words):
        tokens = ["fault" if t == "flt" else t for t in tokens]  # a drive's FLT is a fault, not a filter
    words, unknown, notes = _expand(tokens, idx.vocabulary)
    weights = _tagify(words, idx, len(tokens))
    _keep_last_air_stream(weights, words)
    tags = list(weights)
    # the point function is the last one named ("SF-SPD-CMD": S+F is not the function, CMD is)
    function = next((t for t in reversed(tags) if t in POINT_FUNCTIONS), None)
    function_given = function is not None
    q = {t: w for t, w in weights.items() if t not in POINT_FUNCTIONS}
    if function == "sensor" and not QUANTITIES & set(q) and not SENSOR_WORDS & set(tokens):
        function = "status"  # "SF-S", "SFS": a trailing S without a quantity is a status, not a sensor
    if "humidity" in q and not {"relative", "absolute", "specific"} & set(q) and set(AIR_STREAMS) & set(q):
        q["relative"] = 0.3  # "ZN HUM", "RA-H": the humidity of an air stream in a BAS is relative humidity
    if function == "setpoint" and {"min", "max"} & set(q):
        function = "limit"  # "Max Airflow Setpoint": Brick names a setpoint's bound Max_..._Setpoint_Limit
    if "occupancy" in q and len(q) > 1 and (function or "") in ("setpoint", "limit", "parameter"):
        q["occupied"] = q.pop("occupancy")  # "OCC CLG SP": the occupied-mode setpoint
    hinted = UNIT_QUANTITIES.get(unit.rsplit("/", 1)[-1]) if unit else None
    if hinted and not QUANTITIES & set(q):
        for t in hinted:
            q.setdefault(t, 0.6)
        tags = tags + [t for t in hinted if t not in tags]
        notes.append(f"unit {unit.rsplit('/', 1)[-1]} = {' '.join(hinted)}")
    if {"min", "max"} & set(q):
        default_function = "limit"  # "EAD min", "Minimum Air Flow Fraction": a bound, not a reading
    elif {"high", "low", "loss"} & set(q):
        default_function = "alarm"  # "HI TEMP", "RA LL", "LOSS AIR": a BAS alarm point
    elif ACTUATED & set(tags) or (q and not QUANTITIES & set(q) and PROCESSES & set(q)):
        default_function = "command"  # dampers / valves are driven; "Heat-1", "Fan": stages, on/off
    else:
        default_function = "sensor"
    if function == "setpoint" and (q or room or unknown) and not QUANTITIES & set(q):
        q["temperature"] = 0.3  # "CLG SP", "ACT HTG SP": a setpoint that names no quantity is a temperature
        if room and not any(t in q for t in ("zone", "room", "space", "air", "water")):
            q["zone"] = 0.3  # "RM101 SP": a room's own setpoint is its zone temperature setpoint
    for implied, (when, unless) in IMPLIED.items():
        if implied not in q and when & set(q) and not unless & set(q):
            q[implied] = 0.3
    # the equipment a point belongs to is context: its class words weigh a little ("RAF1 status")
    bonus: dict[str, float] = {}
    eq_classes = [e.brick_class for e in equipment if e.brick_class]
    for w in context_words:
        eq_name = EQUIPMENT_ABBREVIATIONS.get(w)
        if eq_name and BRICK + eq_name in idx.classes:
            eq_classes.append(BRICK + eq_name)
    for ec in eq_classes if tags else ():
        if ec:
            for wd in _tagify(((x, 0) for x in _words(idx.classes[ec].label)), idx, 1):
                if wd in idx.vocabulary and wd not in q and wd not in POINT_FUNCTIONS and wd not in PLACE_WORDS:
                    bonus[wd] = 0.3
    q_ctx: dict[str, float] = {}
    if room and not any(t in q for t in ("zone", "room", "space")):
        q_ctx = {**q, "zone": 0.5}  # a room-level measurement is a zone measurement in Brick terms
    scored = _rank(
        version,
        tuple(sorted(q.items())),
        tuple(sorted(bonus.items())),
        function,
        default_function,
        tuple(sorted(q_ctx.items())),
        tuple(sorted(u for u in unknown if len(u) >= 4)),
    )
    top = [Candidate(idx.canonical(c.brick_class), c.score) for c in scored[: k * 3]]
    seen: set[str] = set()
    cands: list[Candidate] = []
    for c in top:
        if c.brick_class in seen:
            continue
        seen.add(c.brick_class)
        cands.append(c)
        if len(cands) == k:
            break
    why_parts = []
    if equipment:
        why_parts.append("equipment " + ", ".join(e.token for e in equipment))
    if room:
        why_parts.append(f"room {room}")
    if notes:
        why_parts.append("; ".join(notes))
    if tags:
        why_parts.append("tags " + " ".join(tags))
    if unknown:
        why_parts.append("not understood: " + " ".join(unknown))
    reason = None
    if not cands or cands[0].score <= 0:
        confidence = 0.0
        best = BRICK + "Point"
        reason = "no Brick point class matches the tags" if tags else "no known tokens"
        if not tags and equipment and not unknown:
            reason = "names equipment only"
        cands = [Candidate(best, 0.0)] + cands[: k - 1]
    else:
        best = cands[0].brick_class
        margin = cands[0].score - (cands[1].score if len(cands) > 1 else 0.0)
        confidence = max(0.0, min(1.0, cands[0].score)) * (0.75 + 0.25 * min(1.0, margin * 5))
        if unknown:
            confidence *= 0.8
        bc = idx.classes[best]
        why_parts.append(f"best match {bc.name} (tags {' '.join(sorted(bc.tags))})")
        if not function_given:
            why_parts.append(f"no point function in the name: assumed a {default_function}")
        if confidence < min_confidence:
            reason = "low confidence"
    return Classification(
        name=name,
        candidates=cands,
        point_class=best,
        confidence=confidence,
        tags=tags,
        unknown=unknown,
        equipment=equipment,
        room=room,
        why="; ".join(why_parts) or "nothing recognised",
        flagged=reason is not None,
        reason=reason,
        pattern=" ".join(sorted(t for t in q if t not in CONTEXT_WORDS)) + " | " + (function or default_function) + (" | " + " ".join(sorted(u for u in unknown if u not in CONTEXT_WORDS)) if set(unknown) - CONTEXT_WORDS else ""),
    )
