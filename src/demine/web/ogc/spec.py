"""What the OGC API - Features endpoints declare: conformance classes, media types, collections.

Conformance URIs from OGC 17-069r4 (Part 1), 18-058r1 (Part 2) and the Part 4 draft (20-002).
"""

from __future__ import annotations

from dataclasses import dataclass

from demine.domain.entities import REGISTRY

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


# The layers the layer registry publishes, records first.
COLLECTIONS: dict[str, Collection] = {
    name: Collection(name, e.collection.title, e.collection.description)
    for name, e in REGISTRY.items() if e.collection is not None}
