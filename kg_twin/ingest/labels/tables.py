"""Convention tables of the point-name classifier: abbreviations, equipment codes, phrases, word sets.

General building-automation shorthand (ASHRAE Guideline 36 point lists, vendor naming guides,
Project Haystack / brickschema's ``abbrmap``), not the wording of any one file.
"""

from __future__ import annotations

import re

from kg_twin.ontologies import BRICK_VERSION


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


_IMPLICIT = {"air": 0.25, "point": 0.0}  # cost factors of class tags a name leaves implicit


# Equipment written run together with a point code ("SFS" = SF + S, "CHWPSTS" = CHWP + STS).
EQUIPMENT_PREFIXES = ("chwp", "hwp", "cwp", "ahu", "rtu", "vav", "fcu", "saf", "raf", "eaf", "sf", "rf", "ef")
STATIC_PLACES = {"duct", "bldg", "building"}  # "DUCT SP", "BLDG SP": the static pressure there
SETPOINT_WORDS = {"sp", "spt", "stpt", "setpt", "stp", "setpoint"}
DRIVE_WORDS = {"vfd", "vsd", "drv", "drive"}
SENSOR_WORDS = {"sensor", "sen", "sens", "snsr", "sensors"}


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
