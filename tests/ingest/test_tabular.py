"""Table handler on the real sample files, plus broken inputs (encoding, truncation, bad rows)."""

from __future__ import annotations


import pytest
import rdflib
import yaml
from rdflib.compare import isomorphic

from kg_twin.errors import InputError
from kg_twin.ingest.base import HANDLERS
from kg_twin.ingest.mappers.table import TABLE
from kg_twin.models import Record

from .helpers import DATA, BRICK, ID, KGT, split, to_graph, without

TAB = DATA / "tabular"


def run(path, ctx, mapping=None, **opts):
    items = list(TABLE.read(path, **opts))
    records = [r for r in items if isinstance(r, Record)]
    m = mapping or TABLE.propose(records, ctx)
    triples, rejects = split(TABLE.map(items, m, ctx))
    return items, m, to_graph(triples), rejects


def entities(g, cls):
    return set(g.subjects(rdflib.RDF.type, BRICK[cls]))


def test_registered():
    assert HANDLERS["table"] is TABLE


def test_buildingmotif_points_csv(ctx_for):
    items, m, g, rejects = run(TAB / "data.csv", ctx_for("data.csv"))
    assert len(items) == 2 and not rejects
    assert m["entity"]["kind"] == "equipment" and m["entity"]["class"] == {"value": "brick:Thermostat"}
    assert m["columns"]["room"]["role"] == "room"
    assert {c for c, d in m["columns"].items() if d["role"] == "point"} == {"name-co2", "name-temp", "name-sp"}
    assert all(0 < d["confidence"] <= 1 for d in m["columns"].values())
    tstat2 = ID["equipment/tstat2"]
    assert entities(g, "Thermostat") == {tstat2, ID["equipment/tstat3"]}
    assert (tstat2, BRICK.hasLocation, ID["room/room345"]) in g
    assert (ID["room/room345"], rdflib.RDF.type, BRICK.Room) in g
    # 2 rows x 3 point columns
    points = {o for o in g.objects(None, BRICK.hasPoint)}
    assert len(points) == 6
    assert (ID["point/co2-345"], rdflib.RDF.type, BRICK.CO2_Sensor) in g
    assert (ID["point/cow-567"], rdflib.RDF.type, BRICK.CO2_Sensor) in g  # typo in the real file; class from the column
    assert (tstat2, BRICK.hasPoint, ID["point/temp-345"]) in g
    assert (ID["point/temp-345"], KGT.origin, rdflib.Literal("data.csv row 2 column name-temp")) in g
    for s in set(g.subjects(rdflib.RDF.type, None)):
        assert (s, KGT.source, rdflib.URIRef("http://twin.test/source/demo/data.csv")) in g
        assert (s, rdflib.RDFS.label, None) in g


def test_thermostats_xlsx(ctx_for):
    items, m, g, rejects = run(TAB / "thermostats.xlsx", ctx_for("thermostats.xlsx"))
    assert len(items) == 2 and not rejects
    assert items[0].origin.row == 2 and items[0].origin.element == "sheet thermostats"
    assert m["entity"]["kind"] == "equipment" and m["entity"]["class"]["value"] == "brick:Thermostat"
    assert m["columns"]["name"]["role"] == "room"
    assert entities(g, "Thermostat") == {ID["equipment/Thermostat-1"], ID["equipment/Thermostat-2"]}
    assert (ID["equipment/Thermostat-1"], BRICK.hasLocation, ID["room/R410"]) in g
    assert entities(g, "Room") == {ID["room/R410"], ID["room/R411"]}


@pytest.mark.parametrize("name", ["brickify-sheet.csv", "brickify-sheet.tsv"])
def test_brickify_sheets(ctx_for, name):
    items, m, g, rejects = run(TAB / name, ctx_for(name))
    assert len(items) == 2 and not rejects
    assert m["entity"]["class"]["value"] == "brick:Variable_Air_Volume_Box"
    assert m["columns"]["temperature sensor"]["class"] == "brick:Temperature_Sensor"
    assert m["columns"]["temperature setpoint"]["class"] == "brick:Temperature_Setpoint"
    assert m["columns"]["has_reheat"]["datatype"] == "xsd:boolean"
    a = ID["equipment/A"]
    assert (a, BRICK.hasPoint, ID["point/A_ts"]) in g and (ID["point/A_ts"], rdflib.RDF.type, BRICK.Temperature_Sensor) in g
    prop = rdflib.URIRef(m["columns"]["has_reheat"]["property"])
    assert (a, prop, rdflib.Literal(False)) in g and (ID["equipment/B"], prop, rdflib.Literal(True)) in g


def test_csv_and_tsv_give_the_same_graph(ctx_for):
    _, m, g1, _ = run(TAB / "brickify-sheet.csv", ctx_for("s"))
    # the tsv has fewer columns: use its own proposal, compare the shared part
    _, _, g2, _ = run(TAB / "brickify-sheet.tsv", ctx_for("s"))
    drop = {rdflib.URIRef(m["columns"][c]["property"]) for c in ("sensors", "setpoints")}
    assert isomorphic(without(g1, *drop, KGT.origin), without(g2, KGT.origin))


def test_mapping_roundtrips_through_yaml_and_is_deterministic(ctx_for, tmp_path):
    items, m, g, _ = run(TAB / "data.csv", ctx_for("data.csv"))
    text = yaml.safe_dump(m, sort_keys=False)
    m2 = yaml.safe_load(text)
    _, _, g2, _ = run(TAB / "data.csv", ctx_for("data.csv"), mapping=m2)
    assert isomorphic(g, g2)
    # an edited mapping is honoured
    m2["columns"]["name-sp"]["class"] = "brick:Zone_Air_Temperature_Setpoint"
    _, _, g3, _ = run(TAB / "data.csv", ctx_for("data.csv"), mapping=m2)
    assert (ID["point/sp-345"], rdflib.RDF.type, BRICK.Zone_Air_Temperature_Setpoint) in g3


POINTS = """Point Name,Description,Units,Area
AHU-1 SA-TEMP,supply air temperature,°F,10
AHU-1 RA-RH,return humidity,%RH,11
VAV-2-03 ZN-T,zone temp,degF,12.5
VAV-2-03 DMPR CMD,damper,%,13
RM101 CO2,co2,ppm,oops
XQZ-77,mystery,,14
AHU-1 SA-TEMP,duplicate,°F,15
,no name,,16
"""


def test_point_list_rows_rejects_and_counts(ctx_for, tmp_path):
    p = tmp_path / "points.csv"
    p.write_text(POINTS, encoding="utf-8")
    items, m, g, rejects = run(p, ctx_for("points.csv"))
    assert m["entity"]["kind"] == "point" and m["entity"]["class"] == {"classify": "Point Name"}
    assert m["columns"]["Units"]["role"] == "unit"
    assert m["columns"]["Area"]["datatype"] == "xsd:decimal"
    # every record ends up mapped or rejected
    records = [r for r in items if isinstance(r, Record)]
    typed_points = {s for s in g.subjects(KGT.origin, None) if str(s).startswith(str(ID["point/"]))}
    assert len(records) == 8
    assert len(typed_points) + len(rejects) == len(records)
    codes = sorted(r.code for r in rejects)
    assert codes == ["BAD_VALUE", "DUPLICATE_KEY", "NO_KEY"]
    bad = next(r for r in rejects if r.code == "BAD_VALUE")
    assert bad.origin.row == 6 and "Area" in bad.reason and "oops" in bad.reason
    sa = ID["point/AHU-1%20SA-TEMP"]
    assert (sa, rdflib.RDF.type, BRICK.Supply_Air_Temperature_Sensor) in g
    assert (sa, BRICK.isPointOf, ID["equipment/AHU-1"]) in g
    assert (ID["equipment/AHU-1"], rdflib.RDF.type, BRICK.Air_Handling_Unit) in g
    assert (sa, BRICK.hasUnit, rdflib.URIRef("http://qudt.org/vocab/unit/DEG_F")) in g
    zn = ID["point/VAV-2-03%20ZN-T"]
    assert (zn, rdflib.RDF.type, BRICK.Zone_Air_Temperature_Sensor) in g
    assert (zn, BRICK.isPointOf, ID["equipment/VAV-2-03"]) in g
    # the RM101 CO2 row is rejected for its Area cell, so no room was made from it
    assert not entities(g, "Room")
    # unclassifiable name: kept as brick:Point, flagged for review
    xq = ID["point/XQZ-77"]
    assert (xq, rdflib.RDF.type, BRICK.Point) in g
    assert "no known tokens" in str(g.value(xq, KGT.reviewReason))
    rep = TABLE.review(records, m)
    assert "XQZ-77" in rep["by_reason"]["no known tokens"]


def test_room_token_links_point_to_room(ctx_for, tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("name\nRM101 CO2\nRM102 ZN-T\n")
    _, _, g, rejects = run(p, ctx_for("p.csv"))
    assert not rejects
    assert (ID["point/RM101%20CO2"], BRICK.hasLocation, ID["room/RM101"]) in g
    assert (ID["room/RM101"], rdflib.RDF.type, BRICK.Room) in g


def test_wrong_encoding_is_a_clear_error(tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes("name,room\nZN-T,RM1\nT-ext,Salle é\n".encode("latin-1"))
    with pytest.raises(InputError) as e:
        list(TABLE.read(p))
    assert e.value.code == "BAD_ENCODING" and e.value.where == {"file": "latin.csv", "row": 3}
    assert "latin.csv" in e.value.message and "encoding" in e.value.hint
    # with the encoding given, it reads
    recs = list(TABLE.read(p, encoding="latin-1"))
    assert recs[1].fields["room"] == "Salle é"


def test_utf8_bom_and_semicolons(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffname;room\nZN-T;RM1\n".encode("utf-8"))
    (r,) = list(TABLE.read(p))
    assert r.fields == {"name": "ZN-T", "room": "RM1"}


def test_truncated_csv_is_a_clear_error(tmp_path):
    p = tmp_path / "cut.csv"
    p.write_text("name,room,units\nZN-T,RM1,degF\nSA-T,RM2,degF\nRA-T,RM")
    with pytest.raises(InputError) as e:
        list(TABLE.read(p))
    assert e.value.code == "TRUNCATED_FILE" and e.value.where == {"file": "cut.csv", "row": 4}
    assert "cut.csv" in e.value.message and "export" in e.value.hint
    # asked for: keep the complete rows, reject the cut one
    items = list(TABLE.read(p, **TABLE.read_options({"read": {"on_truncated": "reject"}})))
    assert [type(i).__name__ for i in items] == ["Record", "Record", "Reject"]
    assert items[2].code == "TRUNCATED_ROW" and items[2].origin.row == 4


def test_no_final_newline_is_not_truncation(tmp_path):
    p = tmp_path / "ok.csv"
    p.write_text("name,room\nZN-T,RM1\nSA-T,RM2")
    assert [i.fields["room"] for i in TABLE.read(p)] == ["RM1", "RM2"]


def test_bad_row_among_good_rows(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("name,room\nZN-T,RM1\nSA-T,RM2,x,y\nRA-T,RM3\n")
    items = list(TABLE.read(p))
    assert [type(i).__name__ for i in items] == ["Record", "Reject", "Record"]
    assert items[1].code == "TOO_MANY_CELLS" and items[1].origin.row == 3


def test_truncated_xlsx_is_a_clear_error(tmp_path):
    p = tmp_path / "cut.xlsx"
    data = (TAB / "thermostats.xlsx").read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as e:
        list(TABLE.read(p))
    assert e.value.code == "BAD_XLSX" and "cut.xlsx" in e.value.message and e.value.hint


def test_empty_file(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("")
    with pytest.raises(InputError) as e:
        list(TABLE.read(p))
    assert e.value.code == "EMPTY_TABLE"


def test_bad_mapping_is_rejected(ctx_for):
    with pytest.raises(InputError) as e:
        list(TABLE.map([], {"entity": {"kind": "widget", "key": "x"}}, ctx_for("x")))
    assert e.value.code == "BAD_MAPPING"
    with pytest.raises(InputError):
        list(TABLE.map([], {"entity": {"kind": "point", "key": "x"}, "columns": {"a": {"role": "property"}}}, ctx_for("x")))


def test_sniff():
    assert TABLE.sniff(TAB / "data.csv", b"name,room\n") >= 0.9
    assert TABLE.sniff(TAB / "thermostats.xlsx", (TAB / "thermostats.xlsx").read_bytes()[:8]) >= 0.9
    assert TABLE.sniff(DATA / "rdf" / "goodBuilding.ttl", b"@prefix") == 0.0




def test_mapping_file_roundtrip_and_errors(ctx_for, tmp_path):
    from kg_twin.ingest.mappingfile import load_mapping, save_mapping

    items, m, g, _ = run(TAB / "data.csv", ctx_for("data.csv"))
    p = save_mapping(m, tmp_path / "mappings" / "data.yml")
    assert p.read_text().startswith("# kg-twin mapping")
    _, _, g2, _ = run(TAB / "data.csv", ctx_for("data.csv"), mapping=load_mapping(p))
    assert isomorphic(g, g2)
    bad = tmp_path / "bad.yml"
    bad.write_text("entity:\n  kind: point\n   key: x\n")
    with pytest.raises(InputError) as e:
        load_mapping(bad)
    assert e.value.code == "BAD_MAPPING" and e.value.where["line"] == 3


REGISTER = """Asset ID;Asset Type;Location;Install Date;Rated Power kW
CH-1;Chiller;Plant Room B1;2015-06-01;350
CH-2;chiller;Plant Room B1;2015-06-01;350
P-101;Pump;Plant Room B1;2016-02-12;7.5
AHU-3;AHU;Roof;2012-09-30;22
FAN-9;Exhaust Fan;Roof;not known;1.1
"""


def test_asset_register_with_type_column(ctx_for, tmp_path):
    p = tmp_path / "register.csv"
    p.write_text(REGISTER, encoding="utf-8")
    items, m, g, rejects = run(p, ctx_for("register.csv"))
    assert m["entity"]["key"] == "Asset ID"
    assert m["columns"]["Asset Type"]["role"] == "class"
    assert m["columns"]["Location"]["role"] == "room"
    assert m["columns"]["Install Date"]["datatype"] == "xsd:date"
    assert m["entity"]["kind"] == "equipment" and m["entity"]["class"] == {"column": "Asset Type"}
    assert (ID["equipment/CH-1"], rdflib.RDF.type, BRICK.Chiller) in g
    assert (ID["equipment/CH-2"], rdflib.RDF.type, BRICK.Chiller) in g  # label matched in any case
    assert (ID["equipment/P-101"], rdflib.RDF.type, BRICK.Pump) in g
    assert (ID["equipment/AHU-3"], rdflib.RDF.type, BRICK.Air_Handling_Unit) in g  # alias resolved
    assert (ID["equipment/CH-1"], BRICK.hasLocation, ID["room/Plant%20Room%20B1"]) in g
    date = rdflib.URIRef(m["columns"]["Install Date"]["property"])
    assert (ID["equipment/CH-1"], date, rdflib.Literal("2015-06-01", datatype=rdflib.XSD.date)) in g
    assert [(r.origin.row, r.code) for r in rejects] == [(6, "BAD_VALUE")]
    assert "Install Date" in rejects[0].reason


def test_read_options_from_mapping(tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes("name|room\nZN-T|Salle é\n".encode("latin-1"))
    opts = TABLE.read_options({"read": {"encoding": "latin-1", "delimiter": "|"}, "source": {"file": "x"}})
    assert opts == {"encoding": "latin-1", "delimiter": "|"}
    (r,) = list(TABLE.read(p, **opts))
    assert r.fields == {"name": "ZN-T", "room": "Salle é"}


def test_title_lines_above_the_header_are_skipped(tmp_path):
    p = tmp_path / "export.csv"
    p.write_text("Point list - Building A\nExported 2024-03-01\n\nPoint Name;Units;Room\nZN-T;degF;RM101\nSA-T;degF;\n")
    items = list(TABLE.read(p))
    assert [type(i).__name__ for i in items] == ["Record", "Record"]
    assert items[0].fields == {"Point Name": "ZN-T", "Units": "degF", "Room": "RM101"}
    assert items[0].origin.row == 5
    # or say where the header is
    items = list(TABLE.read(p, header_row=4))
    assert items[1].fields["Point Name"] == "SA-T"


def test_title_rows_in_xlsx(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Points"
    ws.append(["Asset register"])
    ws.append([])
    ws.append(["Asset ID", "Asset Type", "Area m2"])
    ws.append(["CH-1", "Chiller", 12.5])
    ws.append(["P-1", "Pump", None])
    p = tmp_path / "reg.xlsx"
    wb.save(p)
    items = list(TABLE.read(p))
    assert [i.fields["Asset ID"] for i in items] == ["CH-1", "P-1"]
    assert items[0].origin.row == 4 and items[0].origin.element == "sheet Points"
    assert items[0].fields["Area m2"] == 12.5


def test_numeric_id_key_with_a_point_name_column(ctx_for, tmp_path):
    p = tmp_path / "bms.csv"
    p.write_text("ID,Point Name,Units\n1,AHU-1 SA-TEMP,degF\n2,AHU-1 RA-TEMP,degF\n3,VAV-1-01 ZN-T,degF\n")
    _, m, g, rejects = run(p, ctx_for("bms.csv"))
    assert m["entity"]["key"] == "ID" and m["entity"]["class"] == {"classify": "Point Name"}
    assert m["entity"]["label"] == "Point Name" and m["columns"]["Point Name"]["role"] == "label"
    assert not rejects
    assert (ID["point/1"], rdflib.RDF.type, BRICK.Supply_Air_Temperature_Sensor) in g
    assert (ID["point/1"], rdflib.RDFS.label, rdflib.Literal("AHU-1 SA-TEMP")) in g
    assert (ID["point/3"], BRICK.isPointOf, ID["equipment/VAV-1-01"]) in g


def test_file_cut_inside_a_quoted_value(tmp_path):
    p = tmp_path / "cutq.csv"
    p.write_text('name,room\nZN-T,RM1\nSA-T,"RM2 north')
    with pytest.raises(InputError) as e:
        list(TABLE.read(p))
    assert e.value.code == "TRUNCATED_FILE" and e.value.where["row"] == 3
    items = list(TABLE.read(p, on_truncated="reject"))
    assert [type(i).__name__ for i in items] == ["Record", "Reject"]
    assert items[1].origin.row == 3 and items[1].code == "TRUNCATED_ROW"


def test_units_column_hints_the_quantity(ctx_for, tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("Point,Units\nAHU-1 SA,degF\nAHU-1 RA,%RH\nVAV-1-01 SA,cfm\n")
    _, m, g, rejects = run(p, ctx_for("u.csv"))
    assert not rejects and m["columns"]["Units"]["role"] == "unit"
    assert (ID["point/AHU-1%20SA"], rdflib.RDF.type, BRICK.Supply_Air_Temperature_Sensor) in g
    assert (ID["point/AHU-1%20RA"], rdflib.RDF.type, BRICK.Return_Air_Humidity_Sensor) in g
    assert (ID["point/VAV-1-01%20SA"], rdflib.RDF.type, BRICK.Supply_Air_Flow_Sensor) in g


def test_mapping_naming_a_missing_column_is_an_error(ctx_for):
    items, m, _, _ = run(TAB / "data.csv", ctx_for("data.csv"))
    m["columns"]["Roomz"] = m["columns"].pop("room")
    with pytest.raises(InputError) as e:
        list(TABLE.map(items, m, ctx_for("data.csv")))
    assert e.value.code == "BAD_MAPPING" and "'Roomz'" in e.value.message and "'room'" in e.value.hint


def test_corrections_in_the_mapping_fix_a_name_and_its_pattern(ctx_for, tmp_path):
    p = tmp_path / "vav.csv"
    p.write_text("Point Name\nVAV-1 DPRPOS\nVAV-2 DPRPOS\nVAV-3 DPRPOS\nVAV-1 ZN-T\n")
    _, m, g, _ = run(p, ctx_for("vav.csv"))
    guessed = g.value(ID["point/VAV-2%20DPRPOS"], rdflib.RDF.type)
    assert guessed != BRICK.Damper_Position_Setpoint  # what the person will correct
    # the proposal lists what was guessed per name pattern, largest first
    first = m["review"]["patterns"][0]
    assert m["review"]["names"] == 4 and first["names"] == 3 and first["examples"][0] == "VAV-1 DPRPOS"
    assert first["class"] == "brick:" + str(guessed).rsplit("#", 1)[-1]
    m = yaml.safe_load(yaml.safe_dump(m))
    m["entity"]["class"]["corrections"] = {"VAV-1 DPRPOS": "brick:Damper_Position_Setpoint"}
    _, _, g2, rejects = run(p, ctx_for("vav.csv"), mapping=m)
    assert not rejects
    for n in (1, 2, 3):  # the named point and the two of the same pattern
        pt = ID[f"point/VAV-{n}%20DPRPOS"]
        assert (pt, rdflib.RDF.type, BRICK.Damper_Position_Setpoint) in g2
        assert g2.value(pt, KGT.reviewReason) is None
    assert (ID["point/VAV-1%20ZN-T"], rdflib.RDF.type, BRICK.Zone_Air_Temperature_Sensor) in g2  # other pattern untouched
    # the review list no longer shows a corrected name
    records = [r for r in TABLE.read(p) if isinstance(r, Record)]
    assert all(not it["name"].endswith("DPRPOS") for it in TABLE.review(records, m)["items"])


@pytest.mark.parametrize("fix, code", [({"VAV-1 DPRPOS": "brick:No_Such_Class"}, "BAD_CORRECTION"), (["VAV-1 DPRPOS"], "BAD_MAPPING")])
def test_bad_corrections_are_clear_errors(ctx_for, tmp_path, fix, code):
    p = tmp_path / "vav.csv"
    p.write_text("Point Name\nVAV-1 DPRPOS\n")
    m = {"entity": {"kind": "point", "key": "Point Name", "class": {"classify": "Point Name", "corrections": fix}}}
    with pytest.raises(InputError) as e:
        run(p, ctx_for("vav.csv"), mapping=m)
    assert e.value.code == code
    assert "No_Such_Class" in e.value.message or "corrections" in e.value.message
