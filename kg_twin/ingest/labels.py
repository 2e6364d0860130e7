"""Point names -> Brick classes.

Building automation point names ("ZN-T", "AHU-1 SA-TEMP", "Supply Air Temp Setpoint",
"RM101 CO2", "VAV2-4.SUPFLSP") are classified against the Brick ontology itself:

1. **Index** - the ontology bundle's Brick (``ontologies/brick/Brick.ttl``) is read once: every class with
   its ``rdfs:label``, tags (``brick:hasAssociatedTag`` and the ``brick:hasTag`` triple rules
   of its shape), ``skos:definition``, super classes, aliases (``brick:aliasOf``,
   ``owl:equivalentClass``) and deprecation (``owl:deprecated`` / ``brick:isReplacedBy``).
2. **Parse** - equipment references (``AHU-1``, ``VAV-2-03``, ``RTU1``) and rooms (``RM101``,
   ``Room 410``) are cut out of the name; the rest is split into tokens (separators,
   camelCase, letter/digit boundaries) and every token is expanded with a general
   abbreviation table (:data:`ABBREVIATIONS`: SA = supply air, T/TEMP = temperature,
   SP/STPT = setpoint, ...). Run-together tokens ("SATS", "OADPRPOS") are segmented into
   known abbreviations by dynamic programming; a function code glued to an unknown word
   ("COMMONSP") and a one-letter typo of a Brick word ("CAPACTY") are still read.
3. **Score** - the query tags are compared with the Brick point classes that share a tag with
   them (inverted index; results cached per parsed pattern). Matched tags add their inverse
   class frequency (rare tags weigh more; the end of a name weighs more than its start); query
   tags a class does not explain cost 0.3 of their weight (half if the class definition uses the
   word); class tags the name does not mention cost 0.45 (cheap for "air" / "point", free when
   implied by a matched tag - every Brick class tagged PM2.5 is also "particulate matter").
   A wrong point function (sensor, setpoint, command, status, alarm...) costs 0.6. Without a
   function word a sensor is assumed - a command for dampers / valves and for process words
   without a quantity ("Heat-1", "Fan") - and the "why" says so. The point's equipment type
   ("RAF1 status" -> fan) is a bonus.
4. **Report** - :func:`classify` returns the top-k classes with scores, the equipment and
   room tokens, the tags used / not understood, and a readable ``why``. Names that cannot be
   classified map to ``brick:Point`` with a low confidence and ``flagged=True``;
   :func:`review_report` groups them for a person.

>>> c = classify("AHU-1 SA-TEMP")
>>> c.point_class.rsplit("#", 1)[1], [e.token for e in c.equipment]
('Supply_Air_Temperature_Sensor', ['AHU-1'])
>>> classify("RM101 CO2").room
'RM101'
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from kg_twin.errors import InputError
from kg_twin.ontologies import BRICK_VERSION, brick_file
from kg_twin.terms import BRICK, OWL, RDF, RDFS

SKOS_DEFINITION = "http://www.w3.org/2004/02/skos/core#definition"
TAG_NS = "https://brickschema.org/schema/BrickTag#"
SH = "http://www.w3.org/ns/shacl#"
DEFAULT_BRICK_VERSION = BRICK_VERSION  # the ontology bundle's Brick

# Point functions: the last word of every Brick point class.
POINT_FUNCTIONS = ("sensor", "setpoint", "command", "status", "alarm", "parameter", "limit")

# ---------------------------------------------------------------------------------------------
# Abbreviation table: general building-automation shorthand -> Brick tag words.
# It is written from common BAS naming conventions (ASHRAE Guideline 36 point lists, vendor
# naming guides, Project Haystack / brickschema's own ``abbrmap``), not from any one file.
# ---------------------------------------------------------------------------------------------
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    # media / air streams
    "sa": ("supply", "air"),
    "ra": ("return", "air"),
    "oa": ("outside", "air"),
    "ma": ("mixed", "air"),
    "ea": ("exhaust", "air"),
    "da": ("discharge", "air"),
    "rla": ("exhaust", "air"),  # relief air leaves the building: Brick names it exhaust air
    "za": ("zone", "air"),
    "sup": ("supply",),
    "supp": ("supply",),
    "ret": ("return",),
    "rtn": ("return",),
    "oat": ("outside", "air", "temperature"),
    "out": ("outside",),
    "outdoor": ("outside",),
    "exh": ("exhaust",),
    "dis": ("discharge",),
    "dischg": ("discharge",),
    "mix": ("mixed",),
    "mxd": ("mixed",),
    "zn": ("zone",),
    "z": ("zone",),
    "rm": ("room",),
    "spc": ("zone",),
    "chw": ("chilled", "water"),
    "chws": ("chilled", "water", "supply"),
    "chwr": ("chilled", "water", "return"),
    "hw": ("hot", "water"),
    "hws": ("hot", "water", "supply"),
    "hwr": ("hot", "water", "return"),
    "cw": ("condenser", "water"),
    "cws": ("condenser", "water", "supply"),
    "cwr": ("condenser", "water", "return"),
    "dhw": ("domestic", "hot", "water"),
    "wtr": ("water",),
    "stm": ("steam",),
    "elec": ("electric",),
    "gas": ("gas",),
    # quantities
    "t": ("temperature",),
    "tmp": ("temperature",),
    "temp": ("temperature",),
    "tem": ("temperature",),
    "rh": ("relative", "humidity"),
    "hum": ("humidity",),
    "humid": ("humidity",),
    "h": ("humidity",),
    "p": ("pressure",),
    "pr": ("pressure",),
    "pres": ("pressure",),
    "press": ("pressure",),
    "dp": ("differential", "pressure"),
    "dpt": ("differential", "pressure", "sensor"),  # differential pressure transmitter
    "dps": ("differential", "pressure", "sensor"),
    "fdp": ("filter", "differential", "pressure"),
    "fdps": ("filter", "differential", "pressure", "sensor"),
    "dpr": ("damper",),
    "sp": ("setpoint",),
    "spt": ("setpoint",),
    "stpt": ("setpoint",),
    "setpt": ("setpoint",),
    "stp": ("setpoint",),
    "set": ("setpoint",),
    "setpoint": ("setpoint",),
    "dsp": ("static", "pressure"),
    "stat": ("static",),
    "f": ("flow",),
    "fl": ("flow",),
    "flw": ("flow",),
    "cfm": ("air", "flow"),
    "gpm": ("water", "flow"),
    "co2": ("co2",),
    "co": ("co",),
    "voc": ("tvoc",),
    "pm25": ("pm2.5",),
    "pm10": ("pm10",),
    "lux": ("illuminance",),
    "lum": ("luminance",),
    "kw": ("electric", "power"),
    "w": ("power",),
    "kwh": ("electric", "energy"),
    "wh": ("electric", "energy"),
    "kva": ("apparent", "power"),
    "kvar": ("reactive", "power"),
    "pf": ("power", "factor"),
    "v": ("voltage",),
    "volt": ("voltage",),
    "volts": ("voltage",),
    "a": ("current",),
    "amp": ("current",),
    "amps": ("current",),
    "cur": ("current",),
    "hz": ("frequency",),
    "freq": ("frequency",),
    "spd": ("speed",),
    "pos": ("position",),
    "posn": ("position",),
    "lvl": ("level",),
    "enth": ("enthalpy",),
    "dew": ("dewpoint",),
    "dewpt": ("dewpoint",),
    "wb": ("wet", "bulb"),
    "occ": ("occupancy",),
    "unocc": ("unoccupied",),
    "occupied": ("occupied",),
    "eff": ("effective",),
    "avg": ("average",),
    "max": ("max",),
    "min": ("min",),
    "maximum": ("max",),
    "minimum": ("min",),
    "hi": ("high",),
    "lo": ("low",),
    "diff": ("differential",),
    "delta": ("differential",),
    "rt": ("run", "time"),
    "runtime": ("run", "time"),
    # equipment parts as point subjects
    "dmpr": ("damper",),
    "oad": ("outside", "air", "damper"),
    "rad": ("return", "air", "damper"),
    "ead": ("exhaust", "air", "damper"),
    "mad": ("mixed", "air", "damper"),
    "dmp": ("damper",),
    "dampr": ("damper",),
    "vlv": ("valve",),
    "valv": ("valve",),
    "fan": ("fan",),
    "fn": ("fan",),
    "flt": ("filter",),
    "fltr": ("filter",),
    "filt": ("filter",),
    "clg": ("cooling",),
    "cool": ("cooling",),
    "htg": ("heating",),
    "heat": ("heating",),
    "rht": ("reheat",),
    "rhtg": ("reheat",),
    "econ": ("economizer",),
    "econo": ("economizer",),
    "lt": ("lighting",),
    "ltg": ("lighting",),
    "light": ("lighting",),
    "lights": ("lighting",),
    "pmp": ("pump",),
    "comp": ("compressor",),
    "cmp": ("compressor",),
    # point functions
    "s": ("sensor",),
    "sen": ("sensor",),
    "sens": ("sensor",),
    "snsr": ("sensor",),
    "c": ("command",),
    "cmd": ("command",),
    "cmnd": ("command",),
    "ctl": ("command",),
    "ctrl": ("command",),
    "sts": ("status",),
    "st": ("status",),
    "status": ("status",),
    "fb": ("status",),
    "alm": ("alarm",),
    "alrm": ("alarm",),
    "flr": ("failure", "alarm"),
    "fail": ("failure", "alarm"),
    "ss": ("start", "stop"),
    "onoff": ("on", "off"),
    "en": ("enable",),
    "enbl": ("enable",),
    "ena": ("enable",),
    "mode": ("mode",),
    "sched": ("schedule",),
    # more shorthand of vendor point lists (drives, packaged units, terminal units)
    "flo": ("flow",),
    "act": ("effective",),  # the active / actual setpoint
    "actv": ("effective",),
    "adj": ("adjust",),
    "lim": ("limit",),
    "lmt": ("limit",),
    "curr": ("current",),
    "acc": ("acceleration",),
    "accel": ("acceleration",),
    "dec": ("deceleration",),
    "decel": ("deceleration",),
    "drv": ("drive",),
    "rdy": ("ready",),
    "mtr": ("motor",),
    "hoa": ("manual", "auto"),
    "ovrd": ("override",),
    "man": ("manual",),
    "dir": ("direction",),
    "humd": ("humidity",),
    "humdfier": ("humidifier",),
    "tol": ("tolerance",),
    "stby": ("standby",),
    "locl": ("local",),
    "remt": ("remote",),
    "cyc": ("cycle",),
    "pow": ("power",),
    "pwr": ("power",),
    "osa": ("outside", "air"),
    "dly": ("delay",),
    "rst": ("reset",),
    "pb": ("proportional", "band"),
    # engineering units written into names: the quantity they measure
    "degf": ("temperature",),
    "degc": ("temperature",),
    "deg": ("temperature",),
    "inwc": ("pressure",),
    "psi": ("pressure",),
    "psig": ("pressure",),
    "kpa": ("pressure",),
    "rpm": ("speed",),
    "hrs": ("run", "time"),
    "hours": ("run", "time"),
    # water temperatures written as one token: medium + supply / return + T
    "chwst": ("chilled", "water", "supply", "temperature"),
    "chwrt": ("chilled", "water", "return", "temperature"),
    "hwst": ("hot", "water", "supply", "temperature"),
    "hwrt": ("hot", "water", "return", "temperature"),
    "cwst": ("condenser", "water", "supply", "temperature"),
    "cwrt": ("condenser", "water", "return", "temperature"),
    "dhws": ("domestic", "hot", "water", "supply"),
    "dhwr": ("domestic", "hot", "water", "return"),
    "h2o": ("water",),
    "bldg": ("building",),
    "bsp": ("building", "static", "pressure"),
    "space": ("zone",),  # "space temp": the zone air temperature in Brick terms
    "sys": ("system",),
    "frz": ("freeze",),
    "det": ("detection",),
    "chng": ("change",),
    "batt": ("battery",),
    "suct": ("suction",),
    "suctn": ("suction",),
    "dehumid": ("dehumidification",),
    "volume": ("flow",),  # "air volume": an air flow (variable air volume)
    "hl": ("high",),  # high limit / low limit (alarm) points: "SA HL", "RA LL"
    "ll": ("low",),
}

# Function codes that end run-together tokens ("COMMONSP", "FANSTS"), longest first.
FUNCTION_SUFFIXES = ("setpt", "stpt", "alrm", "spt", "cmd", "sts", "alm", "sp")

# Equipment abbreviations (a token followed by an identifier: "AHU-1", "VAV2-4") -> Brick class names.
EQUIPMENT_ABBREVIATIONS: dict[str, str] = {
    "ahu": "Air_Handling_Unit",
    "ah": "Air_Handling_Unit",
    "crac": "Computer_Room_Air_Conditioning",
    "crah": "Computer_Room_Air_Handler",
    "rtu": "Rooftop_Unit",
    "vav": "Variable_Air_Volume_Box",
    "cav": "Constant_Air_Volume_Box",
    "fcu": "Fan_Coil_Unit",
    "fc": "Fan_Coil_Unit",
    "mau": "Makeup_Air_Unit",
    "doas": "Dedicated_Outdoor_Air_System_Unit",
    "erv": "Energy_Recovery_Ventilator",
    "hrv": "Heat_Recovery_Ventilator",
    "chlr": "Chiller",
    "chiller": "Chiller",
    "ch": "Chiller",
    "blr": "Boiler",
    "boiler": "Boiler",
    "ct": "Cooling_Tower",
    "hx": "Heat_Exchanger",
    "chwp": "Chilled_Water_Pump",
    "hwp": "Hot_Water_Pump",
    "cwp": "Condenser_Water_Pump",
    "pmp": "Pump",
    "pump": "Pump",
    "ef": "Exhaust_Fan",
    "sf": "Supply_Fan",
    "rf": "Return_Fan",
    "vfd": "Variable_Frequency_Drive",
    "vsd": "Variable_Frequency_Drive",
    "saf": "Supply_Fan",
    "raf": "Return_Fan",
    "eaf": "Exhaust_Fan",
    "hp": "Heat_Pump",
    "uh": "Unit_Heater",
    "tu": "Terminal_Unit",
    "fpb": "Fan_Powered_Terminal_Unit",
    "meter": "Meter",
    "mtr": "Meter",
    "em": "Electrical_Meter",
    "tstat": "Thermostat",
    "thermostat": "Thermostat",
}

# Equipment type words written without an id ("AHU SAT", "PSC_AC"): context, not point tags.
EQUIPMENT_WORDS = {k for k in EQUIPMENT_ABBREVIATIONS if len(k) >= 3} | {"ac", "psz", "hvac", "sf", "rf", "ef"}

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
_IMPLICIT = {"air": 0.25, "point": 0.0}  # cost factors of class tags a name leaves implicit


# ---------------------------------------------------------------------------------------------
# Brick index
# ---------------------------------------------------------------------------------------------


@dataclass
class BrickClass:
    iri: str
    name: str
    label: str
    tags: frozenset[str]
    words: frozenset[str]
    definition: str
    parents: tuple[str, ...]
    defwords: frozenset[str] = frozenset()  # words of skos:definition (3+ letters, no stop words)
    deprecated: bool = False
    alias_of: str | None = None
    replaced_by: str | None = None
    equivalents: tuple[str, ...] = ()


@dataclass
class BrickIndex:
    version: str
    classes: dict[str, BrickClass]
    ancestors: dict[str, frozenset[str]]
    points: list[BrickClass] = field(default_factory=list)
    equipment: set[str] = field(default_factory=set)
    locations: set[str] = field(default_factory=set)
    idf: dict[str, float] = field(default_factory=dict)
    vocabulary: set[str] = field(default_factory=set)
    implied: dict[str, frozenset[str]] = field(default_factory=dict)  # tags every point class with this tag has
    by_tag: dict[str, tuple[str, ...]] = field(default_factory=dict)  # tag / label word -> point classes

    def is_a(self, cls: str, ancestor: str) -> bool:
        return cls == ancestor or ancestor in self.ancestors.get(cls, frozenset())

    def canonical(self, cls: str) -> str:
        """Follow ``brick:aliasOf`` / ``brick:isReplacedBy`` to the class to emit."""
        seen = set()
        while cls in self.classes and cls not in seen:
            seen.add(cls)
            c = self.classes[cls]
            nxt = c.alias_of or c.replaced_by
            if not nxt or nxt not in self.classes:
                break
            cls = nxt
        return cls

    def same(self, a: str, b: str) -> bool:
        """True when two class IRIs denote the same Brick class (alias / equivalence / replacement)."""
        if a == b:
            return True
        ca, cb = self.canonical(a), self.canonical(b)
        if ca == cb:
            return True
        eq_a = set(self.classes[ca].equivalents) if ca in self.classes else set()
        return cb in eq_a


_STOP = {"the", "and", "for", "that", "with", "which", "from", "this", "are", "its", "into", "used", "such", "has", "have", "can", "any", "all", "other", "one", "not", "than", "when", "where", "being", "been"}


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9.]+", text.lower()) if w]


def brick_ttl_path(version: str = DEFAULT_BRICK_VERSION) -> Path:
    """Brick.ttl of ``version``: the ontology bundle's copy, or another version shipped with brickschema."""
    if version == BRICK_VERSION:
        return brick_file()
    import brickschema

    return Path(brickschema.__file__).parent / "ontologies" / version / "Brick.ttl"


@lru_cache(maxsize=4)
def brick_index(version: str = DEFAULT_BRICK_VERSION) -> BrickIndex:
    """Read the Brick ontology (the bundle's, by default) into a class index (cached per process)."""
    import rdflib

    g = rdflib.Graph()
    g.parse(brick_ttl_path(version), format="turtle")
    U = rdflib.URIRef
    rdf_type, owl_class, sub = U(RDF + "type"), U(OWL + "Class"), U(RDFS + "subClassOf")
    label_p, def_p = U(RDFS + "label"), U(SKOS_DEFINITION)
    assoc, has_tag, rule, pred, obj = (
        U(BRICK + "hasAssociatedTag"),
        U(BRICK + "hasTag"),
        U(SH + "rule"),
        U(SH + "predicate"),
        U(SH + "object"),
    )
    alias_p, repl_p, eq_p = U(BRICK + "aliasOf"), U(BRICK + "isReplacedBy"), U(OWL + "equivalentClass")
    depr_p, depr2_p = U(OWL + "deprecated"), U(BRICK + "deprecation")
    names = {str(s) for s in g.subjects(rdf_type, owl_class) if str(s).startswith(BRICK)}
    parents: dict[str, list[str]] = defaultdict(list)
    for s, o in g.subject_objects(sub):
        if str(s) in names and isinstance(o, U):
            parents[str(s)].append(str(o))
    classes: dict[str, BrickClass] = {}
    for iri in names:
        s = U(iri)
        tags = {str(t)[len(TAG_NS) :].lower() for t in g.objects(s, assoc) if str(t).startswith(TAG_NS)}
        for r in g.objects(s, rule):
            if g.value(r, pred) == has_tag:
                t = g.value(r, obj)
                if t is not None and str(t).startswith(TAG_NS):
                    tags.add(str(t)[len(TAG_NS) :].lower())
        label = str(g.value(s, label_p) or iri[len(BRICK) :].replace("_", " "))
        definition = str(g.value(s, def_p) or "")
        depr = bool(g.value(s, depr_p)) and str(g.value(s, depr_p)).lower() == "true" or g.value(s, depr2_p) is not None
        alias = g.value(s, alias_p)
        repl = g.value(s, repl_p)
        classes[iri] = BrickClass(
            iri=iri,
            name=iri[len(BRICK) :],
            label=label,
            tags=frozenset((tags or set(_words(label))) - {"point"}),
            words=frozenset(_words(label)),
            definition=definition,
            defwords=frozenset(w for w in _words(definition) if len(w) >= 3 and w not in _STOP),
            parents=tuple(sorted(parents.get(iri, []))),
            deprecated=depr or repl is not None,
            alias_of=str(alias) if alias is not None and str(alias) in names else None,
            replaced_by=str(repl) if repl is not None and str(repl) in names else None,
            equivalents=tuple(sorted(str(o) for o in g.objects(s, eq_p) if str(o) in names)),
        )
    ancestors: dict[str, frozenset[str]] = {}

    def anc(c: str, stack: frozenset[str] = frozenset()) -> frozenset[str]:
        if c in ancestors:
            return ancestors[c]
        out: set[str] = set()
        for p in parents.get(c, []):
            if p in stack:
                continue
            out.add(p)
            out |= anc(p, stack | {c})
        ancestors[c] = frozenset(out)
        return ancestors[c]

    for c in classes:
        anc(c)
    idx = BrickIndex(version=version, classes=classes, ancestors=ancestors)
    point, equip, loc = BRICK + "Point", BRICK + "Equipment", BRICK + "Location"
    idx.points = sorted((c for c in classes.values() if idx.is_a(c.iri, point) and not c.alias_of), key=lambda c: c.iri)
    idx.equipment = {c for c in classes if idx.is_a(c, equip)}
    idx.locations = {c for c in classes if idx.is_a(c, loc)}
    df: Counter[str] = Counter()
    for c in idx.points:
        for t in c.tags | c.words:
            df[t] += 1
    n = len(idx.points)
    idx.idf = {t: math.log(1 + n / d) for t, d in df.items()}
    idx.vocabulary = set(df)
    common: dict[str, set[str]] = {}
    for c in idx.points:
        for t in c.tags:
            common[t] = set(c.tags) if t not in common else common[t] & c.tags
    idx.implied = {t: frozenset(v - {t} - set(POINT_FUNCTIONS)) for t, v in common.items()}
    by_tag: dict[str, list[str]] = defaultdict(list)
    for c in idx.points:
        for t in c.tags | c.words:
            by_tag[t].append(c.iri)
    idx.by_tag = {t: tuple(v) for t, v in by_tag.items()}
    return idx


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


@dataclass
class EquipmentRef:
    token: str  # as written, e.g. "AHU-1"
    kind: str  # abbreviation, e.g. "ahu"
    brick_class: str | None  # Brick class IRI for that abbreviation (None if Brick has none)


@dataclass
class Candidate:
    brick_class: str
    score: float

    @property
    def name(self) -> str:
        return self.brick_class.rsplit("#", 1)[-1]


@dataclass
class Classification:
    name: str
    candidates: list[Candidate]
    point_class: str
    confidence: float
    tags: list[str]
    unknown: list[str]
    equipment: list[EquipmentRef]
    room: str | None
    why: str
    flagged: bool
    reason: str | None = None
    # what the name says once identifiers are set aside: names with one pattern get one class
    pattern: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "class": self.point_class,
            "confidence": round(self.confidence, 3),
            "candidates": [{"class": c.brick_class, "score": round(c.score, 3)} for c in self.candidates],
            "tags": self.tags,
            "unknown": self.unknown,
            "equipment": [{"token": e.token, "class": e.brick_class} for e in self.equipment],
            "room": self.room,
            "why": self.why,
            "flagged": self.flagged,
            "reason": self.reason,
            "pattern": self.pattern,
        }


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


# Equipment written run together with a point code ("SFS" = SF + S, "CHWPSTS" = CHWP + STS).
EQUIPMENT_PREFIXES = ("chwp", "hwp", "cwp", "ahu", "rtu", "vav", "fcu", "saf", "raf", "eaf", "sf", "rf", "ef")
STATIC_PLACES = {"duct", "bldg", "building"}  # "DUCT SP", "BLDG SP": the static pressure there
SETPOINT_WORDS = {"sp", "spt", "stpt", "setpt", "stp", "setpoint"}
DRIVE_WORDS = {"vfd", "vsd", "drv", "drive"}
SENSOR_WORDS = {"sensor", "sen", "sens", "snsr", "sensors"}


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


# Multi-word phrases read before tokenising: wording of simulation / BAS exports that maps onto
# Brick words. EnergyPlus names a variable "<node or component>_<output variable>": an air loop's
# supply-side inlet node carries return air and its outlet node supply (discharge) air; "System Node"
# only says the value is a node state; a coil's heating / cooling "rate" is a thermal power.
PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement)
    for pattern, replacement in (
        (r"supply[\s_\-.]*(?:side[\s_\-.]*)?inlet", " return air "),
        (r"supply[\s_\-.]*(?:side[\s_\-.]*)?outlet", " discharge air "),
        (r"relief[\s_\-.]*air", " exhaust air "),
        (r"system[\s_\-.]*node", " "),
        (r"(?:mass|volume|volumetric|standard[\s_\-.]*density[\s_\-.]*volume)[\s_\-.]*flow[\s_\-.]*rate", " flow "),
        (r"(heating|cooling)[\s_\-.]*(?:energy[\s_\-.]*)?rate", r" \1 thermal power "),
        (r"air[\s_\-.]*flow[\s_\-.]*fraction", " position "),
        (r"dew[\s_\-.]*point", " dewpoint "),
        (r"(?<![a-z])in[\s_\-.]*(?:wc|w\.c\.|h2o|hg)(?![a-z])", " pressure "),  # inches of water column
        (r"°\s*[fc](?![a-z])", " temperature "),
        (r"(?<![a-z])w[\s_\-./]*c[\s_\-.]*adj", " warm cool adjust "),  # warmer / cooler thermostat adjustment
        (r"(?<![a-z])rh(?=[\s_\-.]*(?:vlv|valve|coil))", " reheat "),  # RH VLV: a reheat valve (humidity has no valve)
        (r"(?<![a-z])fr(?:ee)?z(?:e)?[\s_\-.]*stat(?:us)?(?![a-z])", " freeze status "),  # freezestat
        (r"(?<![a-z])(?:loop|pid)[\s_\-.]*out(?:put)?(?![a-z])", " command "),  # a control loop's output drives something
        # day / night setpoints (occupied / unoccupied mode): "DAY CLG STPT", "NGT HTG STPT"
        (r"(?<![a-z])day(?=[\s_\-.]*(?:clg|htg|cool|heat))", " occupied "),
        (r"(?<![a-z])(?:ngt|nite|night)(?=[\s_\-.]*(?:clg|htg|cool|heat))", " unoccupied "),
        (r"solar[\s_\-.]*rad(?:iation)?(?![a-z])", " solar radiance "),
    )
)

# Air streams: a name mentions several when it is a path ("<zone>-<unit>-Outdoor-Air-Node"); the
# last one is the stream the point measures, the earlier ones place it. supply = discharge in Brick.
AIR_STREAMS = {"zone": "zone", "supply": "supply", "discharge": "supply", "return": "return", "outside": "outside", "mixed": "mixed", "exhaust": "exhaust"}

# Synonyms between name words and Brick tag words.
_SYNONYMS = {
    "cooling": "cool",
    "heating": "heat",
    "outdoor": "outside",
}


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


# Words that place a point rather than say what it measures: they weigh less.
CONTEXT_WORDS = {"building", "floor", "site", "campus", "wing", "storey", "node", "system", "core", "perimeter", "unit"}
# Where a piece of equipment is used, in its class name ("Computer Room Air Conditioning"): not a
# hint about its points (a CRAC's TEMP is not a room air temperature for that reason).
PLACE_WORDS = {"room", "zone", "space", "building", "floor", "computer", "rooftop"}
# Actuated things: without a function word their position / speed is usually a command.
ACTUATED = {"damper", "valve"}
# What a sensor measures; a name with a process word (heat, cool, fan...) but no quantity is a command.
QUANTITIES = {
    "temperature", "humidity", "pressure", "flow", "speed", "position", "power", "energy", "voltage",
    "current", "frequency", "co2", "co", "level", "occupancy", "illuminance", "luminance", "enthalpy",
    "dewpoint", "demand", "load", "pm2.5", "pm10", "tvoc", "time", "capacity", "efficiency", "runtime",
}
# QUDT unit (local name) -> the quantity tags it implies, for names that do not say the quantity.
UNIT_QUANTITIES: dict[str, tuple[str, ...]] = {
    **{u: ("temperature",) for u in ("DEG_F", "DEG_C", "K")},
    "PERCENT_RH": ("relative", "humidity"),
    **{u: ("pressure",) for u in ("PA", "KiloPA", "BAR", "PSI", "IN_H2O")},
    **{u: ("flow",) for u in ("FT3-PER-MIN", "L-PER-SEC", "M3-PER-HR", "GAL_US-PER-MIN")},
    **{u: ("power",) for u in ("W", "KiloW", "MegaW")},
    **{u: ("energy",) for u in ("W-HR", "KiloW-HR", "MegaW-HR")},
    "V": ("voltage",),
    "A": ("current",),
    "HZ": ("frequency",),
    "REV-PER-MIN": ("speed",),
    "LUX": ("illuminance",),
}
PROCESSES = {"heat", "cool", "fan", "pump", "lighting", "reheat", "economizer", "compressor", "humidification"}
# Tags a building-automation name leaves implicit: (implied, (when any of, unless any of)).
# A bare "power" / "voltage" / "current" in a BAS name is electric; "energy" is not assumed to be
# (thermal and electric totals both appear, e.g. BTU meters), unless the unit says so (kWh).
IMPLIED = {
    "electric": ({"power", "voltage", "current"}, {"thermal", "heat", "cool", "gas", "water", "steam", "solar", "reactive", "apparent"}),
    "static": ({"pressure"}, {"differential", "water", "steam", "gas", "velocity", "filter"}),
}
# Tags a class may carry without the name saying so, given a tag the name does have.
_FREE_WITH = {"supply": {"discharge"}, "discharge": {"supply"}, "leaving": {"supply"}, "entering": {"return"}}


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


def brick_class_of(value: str, idx: BrickIndex) -> str | None:
    """Brick class named by a cell: ``brick:Chiller``, a full IRI, a class name (``Air_Handling_Unit``),
    its label in any case (``air handling unit``, ``Chiller``), or an equipment abbreviation (``AHU``).
    Aliases resolve to the class Brick recommends."""
    v = value.strip()
    if v.startswith("brick:"):
        v = v[6:]
    elif v.startswith(BRICK):
        v = v[len(BRICK) :]
    name = re.sub(r"[\s-]+", "_", v)
    if BRICK + name in idx.classes:
        return idx.canonical(BRICK + name)
    by_label = _labels_index(idx)
    hit = by_label.get(re.sub(r"[\s_-]+", " ", v).strip().lower())
    if hit:
        return hit
    abbr = EQUIPMENT_ABBREVIATIONS.get(v.lower())
    if abbr and BRICK + abbr in idx.classes:
        return BRICK + abbr
    return None


_LABELS: dict[int, dict[str, str]] = {}


def _labels_index(idx: BrickIndex) -> dict[str, str]:
    key = id(idx)
    if key not in _LABELS:
        out: dict[str, str] = {}
        for c in idx.classes.values():
            out.setdefault(c.label.lower(), idx.canonical(c.iri))
            out.setdefault(c.name.replace("_", " ").lower(), idx.canonical(c.iri))
        _LABELS[key] = out
    return _LABELS[key]


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


class Corrections:
    """A person's corrections of guessed classes: point name -> Brick class.

    A correction also applies to every other name with the same :attr:`Classification.pattern`
    (same tags, function and unknown words once equipment ids, rooms and place words are set
    aside): correcting ``Core_ZN-...-Supply-Inlet-Node_System_Node_Temperature`` once fixes the
    same point of every zone. Two corrections that give one pattern different classes only apply
    to their own names. Classes are checked against Brick (``brick:X``, ``X`` or a full IRI).

    >>> fix = Corrections({"VAV-1 DPRPOS": "brick:Damper_Position_Setpoint"})
    >>> c = fix.apply(classify("VAV-7 DPRPOS"))
    >>> c.point_class.rsplit("#", 1)[1], c.flagged
    ('Damper_Position_Setpoint', False)
    """

    def __init__(self, by_name: dict[str, str] | None = None, *, version: str = DEFAULT_BRICK_VERSION, source: str = "corrections") -> None:
        self.version = version
        self.by_name: dict[str, str] = {}
        self.by_pattern: dict[str, tuple[str, str]] = {}
        clash: set[str] = set()
        idx = brick_index(version)
        for name, cls in (by_name or {}).items():
            iri = brick_class_of(str(cls), idx)
            if iri is None or not idx.is_a(iri, BRICK + "Point"):
                raise InputError(
                    "BAD_CORRECTION",
                    f"{source}: {cls!r} (for point {name!r}) is not a Brick point class",
                    where={"file": source, "name": str(name)},
                    hint="use a Brick point class such as brick:Zone_Air_Temperature_Sensor",
                )
            self.by_name[str(name)] = iri
            pattern = classify(str(name), version=version).pattern
            if pattern in self.by_pattern and self.by_pattern[pattern][0] != iri:
                clash.add(pattern)
            self.by_pattern.setdefault(pattern, (iri, str(name)))
        for pattern in clash:
            del self.by_pattern[pattern]

    def __len__(self) -> int:
        return len(self.by_name)

    def apply(self, c: Classification) -> Classification:
        """``c`` with a person's class when its name or its pattern was corrected."""
        if c.name in self.by_name:
            iri, why, confidence = self.by_name[c.name], "corrected by a person", 1.0
        elif c.pattern in self.by_pattern:
            iri, seen = self.by_pattern[c.pattern]
            why, confidence = f"same pattern as {seen!r}, corrected by a person", 0.95
        else:
            return c
        return replace(
            c,
            candidates=[Candidate(iri, confidence)] + [x for x in c.candidates if x.brick_class != iri][: len(c.candidates) - 1],
            point_class=iri,
            confidence=confidence,
            why=f"{why}; the classifier said {c.point_class.rsplit('#', 1)[-1]} ({c.why})",
            flagged=False,
            reason=None,
        )



def review_report(results: Iterable[Classification]) -> dict[str, Any]:
    """Group flagged classifications by reason (and unknown token) for a person to review.

    >>> r = review_report([classify("XQZ-77"), classify("ZN-T")])
    >>> r["flagged"], sorted(r["by_reason"])
    (1, ['no known tokens'])
    """
    results = list(results)
    by_reason: dict[str, list[str]] = defaultdict(list)
    unknown_tokens: Counter[str] = Counter()
    for r in results:
        if r.flagged:
            by_reason[r.reason or "flagged"].append(r.name)
            unknown_tokens.update(r.unknown)
    items = [
        {
            "name": r.name,
            "reason": r.reason,
            "class": "brick:" + r.point_class.rsplit("#", 1)[-1],
            "candidates": ["brick:" + c.name for c in r.candidates if c.brick_class != BRICK + "Point"],
            "why": r.why,
        }
        for r in sorted(results, key=lambda r: (r.reason or "", r.name))
        if r.flagged
    ]
    groups: dict[str, list[Classification]] = defaultdict(list)
    for r in results:
        groups[r.pattern].append(r)
    patterns = [
        {
            "pattern": pat,
            "class": "brick:" + rs[0].point_class.rsplit("#", 1)[-1],
            "names": len(rs),
            "flagged": sum(1 for r in rs if r.flagged),
            "lowest_confidence": round(min(r.confidence for r in rs), 3),
            "examples": sorted({r.name for r in rs})[:3],
        }
        for pat, rs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    return {
        "total": len(results),
        "flagged": len(items),
        "by_reason": {k: sorted(v) for k, v in sorted(by_reason.items())},
        "unknown_tokens": dict(unknown_tokens.most_common()),
        "items": items,
        # one line per pattern, largest first: checking one name of each is the fastest review
        # (a correction applies to the whole pattern, see Corrections)
        "patterns": patterns,
    }


def format_review(report: dict[str, Any]) -> str:
    """Plain-text review list (for the CLI / a report file).

    >>> print(format_review(review_report([classify("XQZ-77")])).splitlines()[0])
    1 of 1 point names need review
    """
    lines = [f"{report['flagged']} of {report['total']} point names need review"]
    for reason, names in report["by_reason"].items():
        lines.append(f"\n{reason} ({len(names)}):")
        for it in (i for i in report["items"] if i["reason"] == reason):
            cands = ", ".join(it["candidates"]) or "-"
            lines.append(f"  {it['name']}  -> {it['class']}  (candidates: {cands}; {it['why']})")
    big = [p for p in report.get("patterns", []) if p["names"] > 1][:20]
    if big:
        lines.append("\nlargest patterns (a correction of one name fixes its whole pattern):")
        for p in big:
            lines.append(f"  {p['names']:5d} x {p['class']}  e.g. {', '.join(p['examples'])}" + (f"  ({p['flagged']} flagged)" if p["flagged"] else ""))
    if report["unknown_tokens"]:
        lines.append("\ntokens not understood: " + ", ".join(f"{t} ({n})" for t, n in report["unknown_tokens"].items()))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


@dataclass
class EvalResult:
    rows: list[dict[str, Any]]  # name, gold, predicted, correct, source, split, in_brick

    def accuracy(self, **where: str) -> tuple[float, int, int]:
        sel = [r for r in self.rows if r["in_brick"] and all(r.get(k) == v for k, v in where.items())]
        ok = sum(1 for r in sel if r["correct"])
        return (ok / len(sel) if sel else 0.0), ok, len(sel)


def evaluate(path: str | Path, *, version: str = DEFAULT_BRICK_VERSION, corrections: Corrections | None = None) -> EvalResult:
    """Top-1 accuracy of :func:`classify` on an eval CSV (name, brick_class, source[, split]).

    A prediction is correct when it is the gold class or the same Brick class under another
    name (``brick:aliasOf``, ``owl:equivalentClass``, ``brick:isReplacedBy``), e.g.
    Discharge_Air_Temperature_Sensor = Supply_Air_Temperature_Sensor in Brick.
    Rows whose gold class is not in this Brick release are reported but not scored.
    ``corrections`` are applied first, as the table mapper does with a mapping file's.
    """
    import csv

    idx = brick_index(version)
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            gold = r["brick_class"].strip()
            if gold.startswith("brick:"):
                gold = BRICK + gold[len("brick:") :]
            c = classify(r["name"], version=version)
            if corrections is not None:
                c = corrections.apply(c)
            in_brick = gold in idx.classes
            rows.append(
                {
                    "name": r["name"],
                    "gold": gold,
                    "predicted": c.point_class,
                    "correct": in_brick and idx.same(c.point_class, gold),
                    "in_top3": in_brick and any(idx.same(x.brick_class, gold) for x in c.candidates),
                    # right but less specific: the prediction is a super class of the gold class
                    "general": in_brick and c.point_class != BRICK + "Point" and (idx.same(c.point_class, gold) or idx.is_a(idx.canonical(gold), idx.canonical(c.point_class)) or idx.is_a(gold, c.point_class)),
                    "source": r.get("source", ""),
                    "split": r.get("split", ""),
                    "in_brick": in_brick,
                    "confidence": c.confidence,
                    "flagged": c.flagged,
                }
            )
    return EvalResult(rows)
