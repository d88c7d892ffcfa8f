"""Vector tiles: the XYZ grid, making tiles (PostGIS or MVT in Python), caching and seeding."""
