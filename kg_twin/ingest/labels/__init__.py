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

from kg_twin.ingest.labels.brick import BrickClass, BrickIndex, brick_class_of, brick_index, brick_ttl_path
from kg_twin.ingest.labels.classify import classify
from kg_twin.ingest.labels.evaluate import EvalResult, evaluate
from kg_twin.ingest.labels.parse import find_equipment, find_room
from kg_twin.ingest.labels.results import Candidate, Classification, EquipmentRef
from kg_twin.ingest.labels.review import Corrections, format_review, review_report
from kg_twin.ingest.labels.tables import ABBREVIATIONS, DEFAULT_BRICK_VERSION, EQUIPMENT_ABBREVIATIONS, POINT_FUNCTIONS

__all__ = [
    "ABBREVIATIONS",
    "DEFAULT_BRICK_VERSION",
    "EQUIPMENT_ABBREVIATIONS",
    "POINT_FUNCTIONS",
    "BrickClass",
    "BrickIndex",
    "Candidate",
    "Classification",
    "Corrections",
    "EquipmentRef",
    "EvalResult",
    "brick_class_of",
    "brick_index",
    "brick_ttl_path",
    "classify",
    "evaluate",
    "find_equipment",
    "find_room",
    "format_review",
    "review_report",
]
