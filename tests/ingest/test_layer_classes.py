"""GIS layers get classes from their names and columns (kg_twin/ingest/mappers/layers.py)."""

from __future__ import annotations

import pytest

from kg_twin.ingest.mappers.layers import classify_layer

# (layer name, columns, classes beyond geo:Feature, least confidence)
TABLE = [
    # IGN BD TOPO v3 / v2 catalogue names
    ("BATIMENT", ["ID", "NATURE", "USAGE1", "HAUTEUR"], ["bot:Building"], 0.95),
    ("BATI_INDIFFERENCIE", [], ["bot:Building"], 0.95),
    ("ZONE_D_ACTIVITE_OU_D_INTERET", ["ID", "CATEGORIE", "NATURE"], ["kgt:ActivityZone"], 0.95),
    ("COMMUNE", ["ID", "NOM", "INSEE_COM", "POPULATION"], ["kgt:AdministrativeArea"], 0.95),
    ("RESERVOIR", ["ID", "NATURE", "HAUTEUR"], ["kgt:WaterReservoir"], 0.95),
    ("TRONCON_DE_ROUTE", ["ID", "NATURE", "LARGEUR"], ["kgt:Road"], 0.95),
    ("TRONCON_DE_VOIE_FERREE", [], ["kgt:Railway"], 0.95),
    ("COURS_D_EAU", [], ["kgt:Watercourse"], 0.95),
    ("PLAN_D_EAU", [], ["kgt:WaterBody"], 0.95),
    ("ZONE_DE_VEGETATION", [], ["kgt:Vegetation"], 0.95),
    ("TERRAIN_DE_SPORT", [], ["kgt:SportsFacility"], 0.95),
    ("CIMETIERE", [], ["kgt:Cemetery"], 0.95),
    ("CANALISATION", [], ["kgt:NetworkLine"], 0.95),
    ("EQUIPEMENT_DE_TRANSPORT", [], ["kgt:TransportFacility"], 0.95),
    # Geofabrik OSM shapefiles
    ("gis_osm_buildings_a_free_1", ["osm_id", "code", "fclass", "name", "type"], ["bot:Building"], 0.95),
    ("gis_osm_roads_free_1", ["osm_id", "fclass", "maxspeed", "oneway"], ["kgt:Road"], 0.95),
    ("gis_osm_waterways_free_1", ["osm_id", "fclass", "width"], ["kgt:Watercourse"], 0.95),
    # generic names, French / English / Dutch / German, any case and separators
    ("stations-velov.geojson", ["idstation", "nom", "nbbornettes"], ["kgt:TransportFacility", "kgt:BikeStation"], 0.8),
    ("Bike Stations 2024", ["id", "name"], ["kgt:TransportFacility", "kgt:BikeStation"], 0.8),
    ("arrets_bus", ["id", "nom"], ["kgt:TransportFacility", "kgt:TransportStop"], 0.8),
    ("Bâtiments de la ville", ["id"], ["bot:Building"], 0.8),
    ("city_buildings", ["id"], ["bot:Building"], 0.8),
    ("Châteaux d'eau", ["id"], ["kgt:WaterReservoir"], 0.0),
    ("eclairage_public", ["id", "puissance"], ["brick:Luminaire"], 0.8),
    ("bornes_recharge_irve", ["id"], ["brick:Electric_Vehicle_Charging_Station"], 0.8),
    ("parcelles_cadastrales", ["id", "section"], ["kgt:Parcel"], 0.8),
    ("gemeentegrenzen_gemeente", ["id"], ["kgt:AdministrativeArea"], 0.8),
    ("espaces_verts", ["id", "surface"], ["kgt:Vegetation"], 0.8),
    # the name says nothing: the columns do
    ("export_2024_v3", ["id", "hauteur", "nb_etages", "usage1"], ["bot:Building"], 0.65),
    ("layer1", ["station_id", "bike_stands", "available_bikes"], ["kgt:TransportFacility", "kgt:BikeStation"], 0.65),
]


@pytest.mark.parametrize("layer,columns,expected,least", TABLE, ids=[t[0] for t in TABLE])
def test_layer_table(layer: str, columns: list[str], expected: list[str], least: float) -> None:
    got = classify_layer(layer, columns)
    assert got["value"] == ["geo:Feature", *expected], got
    assert got["confidence"] >= least and got["reason"]


def test_building_layers_mint_building_iris() -> None:
    assert classify_layer("BATIMENT")["kind"] == "building"
    assert classify_layer("COMMUNE")["kind"] == "feature"


def test_unknown_layer_says_so() -> None:
    got = classify_layer("export_7", ["id", "valeur"])
    assert got["value"] == ["geo:Feature"] and got["confidence"] < 0.5
    assert "edit classes.value" in got["reason"]


def test_osm_tags_class_each_feature() -> None:
    got = classify_layer("gis_osm_pois_free_1", ["osm_id", "fclass", "name"], {"fclass": {"bicycle_rental", "bench", "charging_station"}})
    assert got["value"] == ["geo:Feature", "kgt:ActivityZone"]
    assert got["by_value"] == {
        "column": "fclass",
        "classes": {"bicycle_rental": ["kgt:TransportFacility", "kgt:BikeStation"], "charging_station": ["brick:Electric_Vehicle_Charging_Station"]},
    }
