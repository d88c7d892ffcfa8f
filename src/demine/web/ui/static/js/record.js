// A record's page: its geometry on a small map over the map page's base layers.
// Sets window.demineRecordMap.
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";

const shape = JSON.parse(document.getElementById("record-shape").textContent);
const BASE = new Set(["admin_areas", "terrain_lines", "places", "basemap"]);
const style = await fetch("/map/style.json").then((r) => r.json());
style.layers = style.layers.filter((l) => l.type === "background" || BASE.has(l.source));
const map = new maplibregl.Map({ container: "record-map", style, attributionControl: false });
window.demineRecordMap = map;
map.on("load", () => {
  map.addSource("record", { type: "geojson", data: shape });
  const point = shape.type === "Point" || shape.type === "MultiPoint";
  if (point) {
    map.addLayer({ id: "record-point", type: "circle", source: "record", paint: {
      "circle-radius": 7, "circle-color": "#0b5cad", "circle-stroke-color": "#ffffff",
      "circle-stroke-width": 2 } });
  } else {
    map.addLayer({ id: "record-fill", type: "fill", source: "record",
      filter: ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
      paint: { "fill-color": "#0b5cad", "fill-opacity": 0.3 } });
    map.addLayer({ id: "record-line", type: "line", source: "record",
      paint: { "line-color": "#0b5cad", "line-width": 2 } });
  }
  const bounds = new maplibregl.LngLatBounds();
  const extend = (c) => (typeof c[0] === "number" ? bounds.extend(c) : c.forEach(extend));
  extend(shape.coordinates);
  map.fitBounds(bounds, { padding: 30, maxZoom: point ? 13 : 16, duration: 0 });
});
