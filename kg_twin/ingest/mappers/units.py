"""Unit symbols found in point lists / Haystack exports -> QUDT unit IRIs.

>>> qudt_unit("°F"), qudt_unit("kWh"), qudt_unit("furlongs")
('http://qudt.org/vocab/unit/DEG_F', 'http://qudt.org/vocab/unit/KiloW-HR', None)
"""

from __future__ import annotations

from kg_twin.terms import UNIT

_UNITS = {
    "°f": "DEG_F", "degf": "DEG_F", "deg f": "DEG_F", "f": "DEG_F", "fahrenheit": "DEG_F",
    "°c": "DEG_C", "degc": "DEG_C", "deg c": "DEG_C", "c": "DEG_C", "celsius": "DEG_C",
    "k": "K", "kelvin": "K",
    "%": "PERCENT", "percent": "PERCENT", "%rh": "PERCENT_RH", "rh%": "PERCENT_RH",
    "kw": "KiloW", "w": "W", "mw": "MegaW",
    "kwh": "KiloW-HR", "wh": "W-HR", "mwh": "MegaW-HR",
    "kva": "KiloV-A", "kvar": "KiloV-A_Reactive",
    "v": "V", "volt": "V", "a": "A", "amp": "A", "hz": "HZ",
    "pa": "PA", "kpa": "KiloPA", "bar": "BAR", "psi": "PSI",
    "inh2o": "IN_H2O", "inh₂o": "IN_H2O", "in h2o": "IN_H2O", "inwc": "IN_H2O", "in wc": "IN_H2O",
    "cfm": "FT3-PER-MIN", "ft³/min": "FT3-PER-MIN", "l/s": "L-PER-SEC", "m³/h": "M3-PER-HR", "m3/h": "M3-PER-HR",
    "gpm": "GAL_US-PER-MIN", "ppm": "PPM", "lux": "LUX", "lx": "LUX",
    "rpm": "REV-PER-MIN", "h": "HR", "hr": "HR", "s": "SEC", "min": "MIN",
    "btu/h": "BTU_IT-PER-HR", "btuh": "BTU_IT-PER-HR", "ton": "TON_FG", "tons": "TON_FG",
    "m³": "M3", "m3": "M3", "ft³": "FT3", "gal": "GAL_US", "l": "L",
}


def qudt_unit(symbol: str | None) -> str | None:
    if symbol is None:
        return None
    key = str(symbol).strip().lower()
    code = _UNITS.get(key) or _UNITS.get(key.replace(" ", ""))
    return UNIT + code if code else None
