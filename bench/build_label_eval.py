"""Build tests/data/labels/eval.csv: real point names with the Brick class their source asserts.

Sources (read-only, /work/shared/data, BSD-3-Clause, see tests/data/README.md):

* Brick examples (``brick/examples/*/*.ttl``), BuildingMOTIF ``smallOffice_brick.ttl`` and
  ``tutorial1_model.ttl``, py-brickschema ``goodBuilding.ttl``: every entity typed with a
  subclass of ``brick:Point``; the name is its ``rdfs:label`` if it has one, else its local name
  (the part after ``#`` or the last ``/``); the gold class is the asserted (most specific) class.
* ``carytown.json`` (Project Haystack): point ``navName`` with a gold class hand-assigned from
  the point's Haystack marker tags (table below; the name itself was not looked at).
* Point lists (BuildingMOTIF tutorial ``data.csv``, brickify ``sheet.csv``): each cell of a point
  column is a point name; its gold class is the one the column header states (table below).

Each (name, class) pair appears once. ``split`` is ``dev`` for every row: all of these sources
have been looked at while writing the classifier's rules (the EnergyPlus small-office model was
held out in session 1 and opened in session 2, see docs/ingest-tables.md). A blind check needs
names from a source nobody tuned on; ``bench/labels.py --file`` scores any CSV of this shape
(set its ``split`` to ``blind``).

    /work/venv/bin/python bench/build_label_eval.py [DATA_DIR]
"""

from __future__ import annotations

import csv
import glob
import json
import sys
from pathlib import Path

import rdflib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kg_twin.ingest.labels import brick_index
from kg_twin.terms import BRICK

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "labels" / "eval.csv"

# Haystack marker tags -> Brick class (assigned by hand from the tags, Brick 1.4 names).
CARYTOWN_GOLD = {
    ("air", "effective", "sp", "temp", "zone"): "Effective_Zone_Air_Temperature_Setpoint",
    ("kwSite", "power", "sensor", "siteMeter"): "Electric_Power_Sensor",
    ("air", "sensor", "summary", "temp", "zone"): "Zone_Air_Temperature_Sensor",
    ("air", "discharge", "sensor", "temp"): "Discharge_Air_Temperature_Sensor",
    ("cmd", "heat", "summary"): "Heating_Command",
    ("air", "discharge", "pressure", "sensor"): "Discharge_Air_Static_Pressure_Sensor",
    ("cmd", "cool", "summary"): "Cooling_Command",
    ("energy", "sensor", "siteMeter"): "Electric_Energy_Sensor",
    ("cmd", "lights"): "On_Off_Command",
    ("air", "cmd", "discharge", "fan"): "Fan_Command",
    ("air", "cmd", "damper", "outside"): "Damper_Position_Command",
    ("air", "return", "sensor", "temp"): "Return_Air_Temperature_Sensor",
    ("occupied", "sitePoint", "sp"): "Occupancy_Command",
}
_SKIP_TAGS = {"cur", "his", "point", "tariffHis", "elecCost"}

# Point-list columns -> the Brick class their header states (assigned by hand from the header).
SHEET_GOLD = {
    "buildingmotif/notebooks/tutorial/data.csv": {"name-co2": "CO2_Sensor", "name-temp": "Temperature_Sensor", "name-sp": "Setpoint"},
    "py-brickschema/tests/data/brickify/jinja2/sheet.csv": {"temperature sensor": "Temperature_Sensor", "temperature setpoint": "Temperature_Setpoint"},
}


def split_of(source: str) -> str:
    """Every source here has been inspected while tuning (see the module doc)."""
    return "dev"


def rdf_rows(data: Path) -> list[tuple[str, str, str]]:
    idx = brick_index()
    files = sorted(glob.glob(str(data / "brick/examples/*/*.ttl"))) + [
        str(data / "buildingmotif/notebooks/smallOffice_brick.ttl"),
        str(data / "buildingmotif/docs/tutorials/tutorial1_model.ttl"),
        str(data / "py-brickschema/tests/data/goodBuilding.ttl"),
    ]
    rows = []
    for f in files:
        g = rdflib.Graph()
        g.parse(f)
        for s in set(g.subjects(rdflib.RDF.type, None)):
            types = [str(o) for o in g.objects(s, rdflib.RDF.type) if str(o) in idx.classes]
            points = [t for t in types if idx.is_a(t, BRICK + "Point")]
            if not points:
                continue
            # most specific: not an ancestor of another asserted type
            specific = [t for t in points if not any(t in idx.ancestors.get(o, ()) for o in points if o != t)]
            label = g.value(s, rdflib.RDFS.label)
            name = str(label) if label else str(s).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
            rows.append((name, specific[0][len(BRICK) :], str(Path(f).relative_to(data))))
    return rows


def carytown_rows(data: Path) -> list[tuple[str, str, str]]:
    f = data / "py-brickschema/tests/data/carytown.json"
    rows = []
    for r in json.loads(f.read_text())["rows"]:
        tags = {k for k, v in r.items() if v in ("m:", "M")}
        if "point" not in tags:
            continue
        key = tuple(sorted(tags - _SKIP_TAGS))
        if key in CARYTOWN_GOLD:
            rows.append((r.get("navName") or r.get("dis"), CARYTOWN_GOLD[key], str(f.relative_to(data)) + " (hand-labelled from Haystack tags)"))
    return rows


def sheet_rows(data: Path) -> list[tuple[str, str, str]]:
    rows = []
    for rel, cols in SHEET_GOLD.items():
        with open(data / rel, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh, skipinitialspace=True):
                r = {k.strip(): (v or "").strip() for k, v in r.items()}
                for col, cls in cols.items():
                    if r.get(col):
                        rows.append((r[col], cls, rel + " (class from the column header)"))
    return rows


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data")
    seen = set()
    out = []
    for name, cls, src in rdf_rows(data) + carytown_rows(data) + sheet_rows(data):
        if (name, cls) in seen:
            continue
        seen.add((name, cls))
        out.append((name, "brick:" + cls, src, split_of(src)))
    out.sort(key=lambda r: (r[2], r[0]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "brick_class", "source", "split"])
        w.writerows(out)
    print(f"{len(out)} rows -> {OUT}")


if __name__ == "__main__":
    main()
