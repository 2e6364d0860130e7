"""Brick models validated against Brick's own shapes (Brick 1.5, the ontology bundle's copy) (the shapes brickschema uses),
with Brick as the ontology closure (class hierarchy only; never validated as data).

brickschema 0.8's ``Graph(load_brick=True).validate()`` puts the whole ontology into the data
graph, so even goodBuilding.ttl "fails" there (QUDT quantity kinds and Brick's own classes become
focus nodes). Keeping the ontology out of the data gives the intended answer: goodBuilding
conforms, and badBuilding fails exactly on the errors its comments introduce.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kg_twin.validation import parse_shapes, validate_files
from kg_twin.validation.shapes import brick_ontology_file

DATA = Path(__file__).resolve().parents[1] / "data" / "brick"

# (focus local name, constraint component) per file; [] = conforms.
EXPECTED = {
    "goodBuilding.ttl": [],
    "badBuilding.ttl": [
        ("AHU1A", "Or"),  # feeds VAV2_3, which has no type (typo for VAV2-3)
        ("Room-412", "Or"),  # hasLocation AHU1A, not a Location
        ("VAV2-4.DPR", "Class"),  # hasPoint Room-410, not a Point
        ("floor1_air_temp_sensor", "MaxCount"),  # points cannot have locations
        ("floor2_air_temp_sensor", "MaxCount"),
    ],
    "air_quality_sensor_example.ttl": [],
    "apartment.ttl": [],
    "g36-ahu-a9.ttl": [],
    "g36-combined-ahu-vav.ttl": [],
    "g36-vav-a2.ttl": [],
    "ifc.ttl": [],
    # the examples predate Brick 1.5 shapes in places (rec:includes / hasPart counts, location classes)
    "chiller-plant.ttl": [("cws", "MaxCount")],
    "evse.ttl": [("parking_lot", "Class")],
    "last_known_value.ttl": [("sensor1_reading1", "MinCount")],
    "solar_array.ttl": [("array1", "MinCount"), ("array2", "MinCount"), ("pv_daily_peak_power", "Class"), ("pv_energy", "Class"), ("pv_generation_system", "MaxCount"), ("pv_power", "Class")],
    "lighting.ttl": [("driver_1_power_cycle_count", "Class"), ("light_source_1_power_cycle_count", "Class"), ("light_source_1_run_time", "Class"), ("lighting_system", "MaxCount"), ("luminaire_1_energy", "Class"), ("luminaire_1_run_time", "Class"), ("open_office_illuminance", "Class")],
    # units such as unit:KiloW are not named by Brick.ttl and QUDT is not bundled: hasUnit sh:class qudt:Unit fails
    "building_meter.ttl": [("building_energy_sensor", "Class"), ("building_peak_demand", "Class"), ("building_power_sensor", "Class"), ("submeter-submeter-floor1-power", "Class"), ("submeter-submeter-floor2-power", "Class"), ("submeter-submeter-floor3-power", "Class")],
}


@pytest.fixture(scope="module")
def brick_shapes():
    logging.getLogger("rdflib").setLevel(logging.ERROR)
    return parse_shapes([brick_ontology_file()])


def _keys(out):
    return sorted({(str(r.focus).strip("<>").rsplit("/", 1)[-1].rsplit("#", 1)[-1], str(r.component).rsplit("#", 1)[-1].removesuffix("ConstraintComponent")) for r in out.results})


@pytest.mark.parametrize("name", ["goodBuilding.ttl", "badBuilding.ttl"])
def test_good_and_bad_building(name, brick_shapes):
    out = validate_files([DATA / name], [], closure_files=[brick_ontology_file()], shapes=brick_shapes, engine="auto")
    assert _keys(out) == EXPECTED[name]
    assert out.conforms == (EXPECTED[name] == [])
    assert set(out.summary.engines.values()) == {"kgtwin"}


def test_engines_named_per_shape(brick_shapes):
    """Brick's SHACL-SPARQL constraints run in the kgtwin engine too; the summary names it per shape."""
    out = validate_files([DATA / "badBuilding.ttl"], [], closure_files=[brick_ontology_file()], shapes=brick_shapes, engine="kgtwin")
    assert _keys(out) == EXPECTED["badBuilding.ttl"]
    assert set(out.summary.engines.values()) == {"kgtwin"}
    assert any("Deprecation" in name for name in out.summary.engines)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(EXPECTED) - {"goodBuilding.ttl", "badBuilding.ttl"}))
def test_brick_examples(name, brick_shapes):
    out = validate_files([DATA / name], [], closure_files=[brick_ontology_file()], shapes=brick_shapes, engine="auto")
    assert _keys(out) == EXPECTED[name]


@pytest.mark.slow
def test_small_office_units(brick_shapes):
    """BuildingMOTIF's small office: only hasUnit values outside Brick's unit lists fail (QUDT not shipped)."""
    out = validate_files([DATA / "smallOffice_brick.ttl"], [], closure_files=[brick_ontology_file()], shapes=brick_shapes, engine="auto")
    assert {r.component.rsplit("#", 1)[-1] for r in out.results} == {"ClassConstraintComponent"}
    assert {str(r.value).strip("<>").rsplit("/", 1)[-1] for r in out.results} <= {"KiloGM-PER-SEC", "PERCENT_RH"}
    assert len(_keys(out)) == 55


@pytest.mark.slow
def test_bad_building_same_as_pyshacl(brick_shapes):
    ours = validate_files([DATA / "badBuilding.ttl"], [], closure_files=[brick_ontology_file()], shapes=brick_shapes, engine="auto")
    ref = validate_files([DATA / "badBuilding.ttl"], [], closure_files=[brick_ontology_file()], shapes=brick_shapes, engine="pyshacl")
    assert ours.result_keys() == ref.result_keys()
