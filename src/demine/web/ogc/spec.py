"""What the OGC API - Features endpoints declare: conformance classes, media types, collections.

Conformance URIs from OGC 17-069r4 (Part 1), 18-058r1 (Part 2) and the Part 4 draft (20-002).
"""

from __future__ import annotations

from dataclasses import dataclass

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
)

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
MERGE_PATCH = "application/merge-patch+json"

REL_DATA = "data"
REL_CONFORMANCE = "conformance"
REL_ITEMS = "items"
TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"


@dataclass(frozen=True)
class Collection:
    """One layer published as a feature collection."""

    id: str
    title: str
    description: str


COLLECTIONS: dict[str, Collection] = {c.id: c for c in (
    Collection("hazards", "Hazardous areas",
               "Suspected (SHA) and confirmed (CHA) hazardous areas with their land-release "
               "ledger (baseline, cancelled, reduced, cleared, remaining m²)."),
    Collection("activities", "Land release activities",
               "Non-technical and technical surveys, clearance, BAC, EOD spot tasks and "
               "post-clearance inspections, each with its worked polygon."),
    Collection("land_releases", "Land released",
               "Polygons cancelled, reduced or cleared, booked by completed activities "
               "(read-only: written through activities)."),
    Collection("eo_finds", "EO finds", "Explosive ordnance items found, with their disposal."),
    Collection("accidents", "Accidents and incidents",
               "Explosions with or without harm (casualties are not published here)."),
    Collection("eore_sessions", "EORE sessions", "Explosive ordnance risk education sessions."),
    Collection("admin_areas", "Administrative areas", "The gazetteer's areas, admin0 to admin3."),
    Collection("places", "Places", "Settlements and other named places of the gazetteer."),
    Collection("terrain_lines", "Terrain lines", "Roads, rivers and front lines."),
)}
