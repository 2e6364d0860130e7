"""GIS layer -> classes: what a layer's features are, from its name and its attribute schema.

A layer is read three ways, strongest first:

1. its name against known layer catalogues (IGN BD TOPO v2/v3, Geofabrik OSM shapefiles): an exact
   catalogue name gives confidence 0.95;
2. the words of its name (French, English, German, Dutch; accents, case, separators and numbers
   ignored) against :data:`LAYER_RULES`: 0.8;
3. its columns (attribute names such as ``HAUTEUR`` / ``NB_ETAGES``, ``bike_stands``) against the
   rules' ``columns``: 0.65.

OSM tag columns (``amenity``, ``building``, ``highway``, ... or Geofabrik's ``fclass``) class each
feature by its own value (``by_value``: ``amenity=bicycle_rental`` -> kgt:BikeStation), on top of the
layer's classes. Classes come from GeoSPARQL, BOT, Brick or ``kgt`` (``ontologies/kgt.ttl``); a
layer nothing matches stays ``geo:Feature`` (confidence 0.4) and says so.

>>> classify_layer("BATIMENT", ["ID", "HAUTEUR"])["value"]
['geo:Feature', 'bot:Building']
>>> classify_layer("stations_velov", ["idstation", "nom"])["value"]
['geo:Feature', 'kgt:TransportFacility', 'kgt:BikeStation']
>>> classify_layer("RESERVOIR", ["NATURE"])["value"]
['geo:Feature', 'kgt:WaterReservoir']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class LayerRule:
    classes: tuple[str, ...]  # CURIEs added to geo:Feature
    catalogue: tuple[str, ...] = ()  # exact layer names of known catalogues (normalised)
    words: tuple[str, ...] = ()  # name words / word pairs ("cours_eau") that say this class
    columns: tuple[str, ...] = ()  # attribute names typical of such layers (two needed)
    kind: str = "feature"  # IRI kind of the features (building layers mint .../building/KEY)


# fmt: off
LAYER_RULES: tuple[LayerRule, ...] = (
    LayerRule(("bot:Building",), kind="building",
              catalogue=("batiment", "bati_indifferencie", "bati_industriel", "bati_remarquable", "buildings", "buildings_a", "pand"),
              words=("batiment", "batiments", "bati", "building", "buildings", "bldg", "gebaeude", "gebaude", "gebouw", "gebouwen", "pand", "panden", "edifice", "immeuble"),
              columns=("hauteur", "nb_etages", "nombre_d_etages", "usage1", "usage_1", "nature_batiment", "height", "building_levels", "measuredheight",
                       "storeysaboveground", "roof_height", "building", "date_d_apparition", "nb_logts", "nombre_de_logements", "mat_murs")),
    LayerRule(("kgt:TransportFacility", "kgt:BikeStation"),
              catalogue=("stations_velov", "velov_stations"),
              words=("velov", "velo", "velos", "bike", "bikes", "bicycle", "bicycles", "cycle_hire", "bikeshare", "vls", "fahrrad", "fiets", "bicing", "velib",
                     "bike_station", "bicycle_rental"),
              columns=("bike_stands", "available_bikes", "available_bike_stands", "nbbornette", "nb_bornettes", "nbvelos", "capacity_bikes", "num_bikes_available")),
    LayerRule(("kgt:TransportFacility", "kgt:TransportStop"),
              words=("arret", "arrets", "stop", "stops", "bus_stop", "station", "stations", "gare", "gares", "haltestelle", "halte", "tram", "metro", "quai"),
              columns=("stop_id", "stop_name", "id_arret", "nom_arret", "lignes", "routes")),
    LayerRule(("kgt:TransportFacility",),
              catalogue=("equipement_de_transport", "aerodrome", "transport", "transport_a", "parking"),
              words=("transport", "parking", "parkings", "stationnement", "aerodrome", "airport", "port", "parc_relais", "parkplatz")),
    LayerRule(("kgt:WaterReservoir",),
              catalogue=("reservoir", "reservoirs", "chateau_d_eau"),
              words=("reservoir", "reservoirs", "chateau_eau", "chateau_d_eau", "water_tower", "water_tank", "watertoren", "wasserturm", "citerne")),
    LayerRule(("kgt:Watercourse",),
              catalogue=("cours_d_eau", "troncon_hydrographique", "troncon_cours_eau", "waterways", "waterways_free"),
              words=("cours_eau", "cours_d_eau", "riviere", "rivieres", "fleuve", "ruisseau", "waterway", "waterways", "river", "rivers", "stream", "canal", "fluss")),
    LayerRule(("kgt:WaterBody",),
              catalogue=("plan_d_eau", "surface_hydrographique", "surface_eau", "water_a", "water"),
              words=("plan_eau", "plan_d_eau", "lac", "etang", "lake", "pond", "water", "hydrographie", "hydro", "wasser", "water_body")),
    LayerRule(("kgt:ActivityZone",),
              catalogue=("zone_d_activite_ou_d_interet", "pai_zone_activite", "pois", "pois_a", "pofw", "pofw_a"),
              words=("zone_activite", "zone_d_activite", "activite", "activites", "interet", "poi", "pois", "equipement", "equipements", "amenity", "amenities",
                     "commerce", "commerces", "service", "services", "activity")),
    LayerRule(("kgt:AdministrativeArea",),
              catalogue=("commune", "communes", "departement", "region", "arrondissement", "arrondissement_municipal", "epci", "collectivite_territoriale",
                         "commune_associee_ou_deleguee", "places", "places_a", "iris"),
              words=("commune", "communes", "municipality", "municipalities", "departement", "region", "canton", "arrondissement", "quartier", "quartiers",
                     "district", "districts", "admin", "administrative", "boundary", "boundaries", "gemeinde", "gemeente", "wijk", "limite_administrative"),
              columns=("insee_com", "code_insee", "insee_dep", "insee_reg", "population", "siren_epci", "code_postal")),
    LayerRule(("kgt:Road",),
              catalogue=("troncon_de_route", "route", "roads", "route_numerotee_ou_nommee", "voie_nommee", "troncon_route"),
              words=("route", "routes", "road", "roads", "rue", "rues", "voie", "voies", "voirie", "street", "streets", "highway", "chaussee", "strasse", "weg", "wegen"),
              columns=("largeur", "nb_voies", "nombre_de_voies", "sens", "highway", "lanes", "maxspeed", "oneway", "vit_moy_vl", "importance")),
    LayerRule(("kgt:Railway",),
              catalogue=("troncon_de_voie_ferree", "voie_ferree_nommee", "railways", "troncon_voie_ferree"),
              words=("voie_ferree", "ferroviaire", "railway", "railways", "rail", "rails", "bahn", "spoor")),
    LayerRule(("kgt:Vegetation",),
              catalogue=("zone_de_vegetation", "haie", "zone_vegetation", "natural", "natural_a"),
              words=("vegetation", "foret", "forest", "bois", "wood", "haie", "hedge", "arbre", "arbres", "tree", "trees", "parc", "park", "parks", "espace_vert",
                     "espaces_verts", "green", "wald", "landuse")),
    LayerRule(("kgt:SportsFacility",),
              catalogue=("terrain_de_sport",),
              words=("terrain_sport", "terrain_de_sport", "sport", "sports", "stade", "stadium", "pitch", "gymnase")),
    LayerRule(("kgt:Cemetery",), catalogue=("cimetiere",), words=("cimetiere", "cimetieres", "cemetery", "friedhof")),
    LayerRule(("kgt:Bridge",), words=("pont", "ponts", "bridge", "bridges", "ouvrage_art", "bruecke")),
    LayerRule(("kgt:Parcel",), catalogue=("parcelle", "parcelles", "cadastre"), words=("parcelle", "parcelles", "cadastre", "parcel", "parcels", "plot", "perceel")),
    LayerRule(("kgt:NetworkLine",),
              catalogue=("canalisation", "ligne_electrique", "construction_lineaire"),
              words=("canalisation", "canalisations", "reseau", "reseaux", "pipe", "pipes", "pipeline", "ligne_electrique", "cable", "cables", "network", "conduite")),
    LayerRule(("kgt:Structure",),
              catalogue=("construction_ponctuelle", "construction_surfacique", "pylone", "poste_de_transformation"),
              words=("construction", "constructions", "pylone", "pylon", "mast", "antenne", "structure", "structures")),
    LayerRule(("brick:Electric_Vehicle_Charging_Station",),
              words=("irve", "borne_recharge", "bornes_recharge", "charging", "charging_station", "ev_charging", "ladestation", "laadpaal", "laadpalen")),
    LayerRule(("brick:Luminaire",),
              words=("eclairage", "eclairage_public", "lampadaire", "lampadaires", "streetlight", "streetlights", "street_light", "lighting", "luminaire", "luminaires")),
    LayerRule(("brick:Weather_Station",), words=("meteo", "weather", "weather_station", "station_meteo")),
    LayerRule(("brick:Site",), words=("site", "sites", "campus", "emprise", "enceinte")),
)

# OSM tag values (the tag column is the key, Geofabrik writes it as "fclass") -> classes of one feature.
OSM_VALUES: dict[str, tuple[str, ...]] = {
    "bicycle_rental": ("kgt:TransportFacility", "kgt:BikeStation"),
    "bicycle_parking": ("kgt:TransportFacility",),
    "bus_stop": ("kgt:TransportFacility", "kgt:TransportStop"),
    "tram_stop": ("kgt:TransportFacility", "kgt:TransportStop"),
    "railway_station": ("kgt:TransportFacility", "kgt:TransportStop"),
    "parking": ("kgt:TransportFacility",),
    "charging_station": ("brick:Electric_Vehicle_Charging_Station",),
    "water_tower": ("kgt:WaterReservoir",),
    "reservoir": ("kgt:WaterReservoir",),
    "storage_tank": ("kgt:WaterReservoir",),
    "street_lamp": ("brick:Luminaire",),
    "weather_station": ("brick:Weather_Station",),
    "pitch": ("kgt:SportsFacility",),
    "sports_centre": ("kgt:SportsFacility",),
    "stadium": ("kgt:SportsFacility",),
    "grave_yard": ("kgt:Cemetery",),
    "cemetery": ("kgt:Cemetery",),
    "bridge": ("kgt:Bridge",),
    "river": ("kgt:Watercourse",),
    "stream": ("kgt:Watercourse",),
    "canal": ("kgt:Watercourse",),
    "forest": ("kgt:Vegetation",),
    "park": ("kgt:Vegetation",),
    "wood": ("kgt:Vegetation",),
    "tree": ("kgt:Vegetation",),
}
OSM_TAG_COLUMNS = ("fclass", "amenity", "man_made", "highway", "railway", "leisure", "landuse", "natural", "waterway", "public_transport", "building")
# fmt: on


def normalise(name: str) -> str:
    """Accents, case, separators and numbers aside: ``Zone_d'Activité-2`` -> ``zone_d_activite``.

    >>> normalise("gis_osm_buildings_a_free_1")
    'buildings_a'
    >>> normalise("Tronçon de route")
    'troncon_de_route'
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\.(shp|geojson|json|gpkg|csv|zip|gml|kml)$", "", text)
    text = re.sub(r"[^a-z]+", "_", text).strip("_")
    text = re.sub(r"^gis_osm_", "", text)
    return re.sub(r"_free$", "", text)


def _tokens(norm: str) -> set[str]:
    out: set[str] = set()
    raw = [p for p in norm.split("_") if p]
    singular = [p[:-1] if len(p) > 3 and p[-1] in "sx" else p for p in raw]  # chateaux, arrets
    for parts in (raw, singular):
        out |= set(parts)
        out |= {f"{a}_{b}" for a, b in zip(parts, parts[1:])}
        out |= {f"{a}_{b}_{c}" for a, b, c in zip(parts, parts[1:], parts[2:])}
    return out


def classify_layer(layer: str, columns: Iterable[str] = (), values: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """The classes proposal of one layer: ``value`` (CURIEs), ``kind``, ``confidence``, ``reason``
    and, when the layer has OSM tag columns, ``by_value: {column, classes: {value: [CURIEs]}}``.

    ``values``: column -> the values seen (for OSM tag columns)."""
    norm = normalise(layer)
    cols = {normalise(c) for c in columns}
    best: tuple[float, LayerRule, str] | None = None
    for rule in LAYER_RULES:
        if norm in rule.catalogue:
            hit = (0.95, rule, f"layer name {layer!r} is a known layer catalogue name")
        elif _tokens(norm) & set(rule.words):
            word = sorted(_tokens(norm) & set(rule.words), key=len)[-1]
            hit = (0.8, rule, f"layer name {layer!r} says {word!r}")
        elif len(cols & set(rule.columns)) >= 2:
            hit = (0.65, rule, "columns " + ", ".join(sorted(cols & set(rule.columns))[:4]) + " are typical of such layers")
        else:
            continue
        if best is None or hit[0] > best[0]:
            best = hit
    out: dict[str, Any]
    if best is None:
        out = {"value": ["geo:Feature"], "kind": "feature", "confidence": 0.4,
               "reason": f"layer {layer!r}: neither its name nor its columns say what its features are; edit classes.value to add a class"}
    else:
        conf, rule, why = best
        out = {"value": ["geo:Feature", *rule.classes], "kind": rule.kind, "confidence": conf, "reason": why}
    tag_col = next((c for c in columns if normalise(c) in OSM_TAG_COLUMNS and values and values.get(c)), None)
    if tag_col and values:
        table = {v: list(OSM_VALUES[normalise(v)]) for v in sorted(values[tag_col]) if normalise(v) in OSM_VALUES}
        if table:
            out["by_value"] = {"column": tag_col, "classes": table}
            out["reason"] += f"; each feature is also classed by its {tag_col!r} value (OSM tags)"
    return out
