"""Geometry support: CRS recognition and reprojection to CRS84 (:mod:`kg_twin.geo.crs`),
geometry checks and GeoSPARQL WKT literals (:mod:`kg_twin.geo.geometry`)."""
