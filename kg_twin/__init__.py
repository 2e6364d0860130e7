"""kg-twin: a standards-based semantic digital twin of a territory."""

__version__ = "0.1.0"
