// The review item: both geometries on one small map, and keyboard shortcuts for a long
// queue (A approve, R reject, J next, K previous; not while typing the reason).
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";

const data = document.getElementById("review-shapes");
if (data) {
  const shapes = JSON.parse(data.textContent);
  // The map page's style with only its base layers (areas, roads, rivers, places): where
  // the record lies, without the other records.
  const BASE = new Set(["admin_areas", "terrain_lines", "places", "basemap"]);
  const style = await fetch("/map/style.json").then((r) => r.json());
  style.layers = style.layers.filter((l) => l.type === "background" || BASE.has(l.source));
  const map = new maplibregl.Map({container: "review-map", style, attributionControl: false});
  window.demineReviewMap = map;
  map.on("load", () => {
    map.addSource("shapes", {type: "geojson", data: shapes});
    const now = ["==", ["get", "role"], "current"];
    const proposed = ["==", ["get", "role"], "proposed"];
    map.addLayer({id: "proposed-fill", type: "fill", source: "shapes",
      filter: ["all", proposed, ["==", ["geometry-type"], "Polygon"]],
      paint: {"fill-color": "#0b5cad", "fill-opacity": 0.3}});
    map.addLayer({id: "proposed-line", type: "line", source: "shapes", filter: proposed,
      paint: {"line-color": "#0b5cad", "line-width": 2}});
    map.addLayer({id: "current-line", type: "line", source: "shapes", filter: now,
      paint: {"line-color": "#4f5b66", "line-width": 2, "line-dasharray": [2, 1]}});
    map.addLayer({id: "points", type: "circle", source: "shapes",
      filter: ["==", ["geometry-type"], "Point"],
      paint: {"circle-radius": 6, "circle-color": ["case", proposed, "#0b5cad", "#4f5b66"],
        "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5}});
    const bounds = new maplibregl.LngLatBounds();
    const extend = (c) => (typeof c[0] === "number" ? bounds.extend(c) : c.forEach(extend));
    for (const f of shapes.features) extend(f.geometry.coordinates);
    // a point alone: enough around it to see where it is
    const point = shapes.features.every((f) => f.geometry.type === "Point");
    if (!bounds.isEmpty()) map.fitBounds(bounds, {padding: 30, maxZoom: point ? 12 : 16,
                                                  duration: 0});
  });
}

document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("textarea, input, select");
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = document.querySelector(`[data-key="${event.key.toLowerCase()}"]`);
  if (!target) return;
  event.preventDefault();
  if (event.key.toLowerCase() === "r" && !document.getElementById("reason").value.trim()) {
    document.getElementById("reason").focus();
    return;
  }
  target.click();
});
