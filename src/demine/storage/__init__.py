"""Storage: tables, engine, unit of work, GeoPackage and PostGIS dialects."""
