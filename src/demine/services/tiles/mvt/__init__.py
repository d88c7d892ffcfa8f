"""Mapbox Vector Tile 2.1 in Python: tile coordinates, geometry commands, protobuf messages."""
