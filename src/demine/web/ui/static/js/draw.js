// The record forms: draw the new record's geometry, or edit the stored one (terra-draw on MapLibre, over the map
// page's base layers); what is drawn is written as GeoJSON into the form's geometry field,
// which the server validates (its finding is shown next to the field). window.demineDraw
// and window.demineDrawMap let the tests drive it.
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";

const element = document.getElementById("draw-map");
const field = document.getElementById("f-geometry");
const kind = element.dataset.kind; // Polygon, Point or LineString
const editing = element.dataset.edit === "true";
const MODES = { Polygon: "polygon", Point: "point", LineString: "linestring" };

const BASE = new Set(["admin_areas", "terrain_lines", "places", "hazards", "basemap"]);
const style = await fetch("/map/style.json").then((r) => r.json());
style.layers = style.layers.filter((l) => l.type === "background" || BASE.has(l.source));
// the whole region to draw a new record; the record itself to edit one
let bounds = await fetch("/tiles/admin_areas.json").then((r) => r.json()).then((t) => t.bounds);
const start = shown();
if (start) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  const extend = (c) => (typeof c[0] === "number"
    ? (box[0] = Math.min(box[0], c[0]), box[1] = Math.min(box[1], c[1]),
       box[2] = Math.max(box[2], c[0]), box[3] = Math.max(box[3], c[1]))
    : c.forEach(extend));
  extend(start.coordinates);
  const pad = Math.max(box[2] - box[0], box[3] - box[1], 0.002) * 0.4;
  bounds = [box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad];
}
const map = new maplibregl.Map({
  container: element, style, bounds: [[bounds[0], bounds[1]], [bounds[2], bounds[3]]],
  attributionControl: false, dragRotate: false,
});
window.demineDrawMap = map;

function shown() { // the geometry in the form's field, if any
  try {
    const value = JSON.parse(field.value);
    return value && value.type ? value : null;
  } catch {
    return null;
  }
}

map.on("load", () => {
  const { TerraDraw, TerraDrawPolygonMode, TerraDrawPointMode, TerraDrawLineStringMode,
    TerraDrawSelectMode } = window.terraDraw;
  const editable = { feature: { draggable: true, coordinates: {
    midpoints: true, draggable: true, deletable: true } } };
  const draw = new TerraDraw({
    adapter: new window.terraDrawMaplibreGlAdapter.TerraDrawMapLibreGLAdapter({ map }),
    modes: [new TerraDrawPolygonMode(), new TerraDrawPointMode(), new TerraDrawLineStringMode(),
      new TerraDrawSelectMode({ flags: { polygon: editable, point: editable,
        linestring: editable } })],
  });
  draw.start();
  draw.setMode(MODES[kind]);
  window.demineDraw = draw;
  // a stored geometry (or one the server sent back with a finding) is there to edit
  // (terra-draw takes at most 9 decimals of a degree: well under a millimetre)
  const rounded = (c) => (typeof c[0] === "number"
    ? c.map((v) => Math.round(v * 1e9) / 1e9) : c.map(rounded));
  const earlier = shown();
  if (earlier && earlier.type === kind) {
    const [added] = draw.addFeatures([{ type: "Feature", properties: { mode: MODES[kind] },
      geometry: { type: kind, coordinates: rounded(earlier.coordinates) } }]);
    element.dataset.loaded = String(Boolean(added && added.valid));
    if (editing) draw.setMode("select");
  }
  draw.on("change", (ids, type) => {
    if (type !== "update" || draw.getMode() !== "select") return;
    const [feature] = draw.getSnapshot().filter((f) => f.properties.mode === MODES[kind]);
    if (feature) {
      field.value = JSON.stringify(feature.geometry);
      element.dataset.edited = "true";
    }
  });
  draw.on("finish", (id) => {
    // one geometry per record: a new drawing replaces the one before
    const mine = draw.getSnapshot().filter((f) => f.properties.mode === MODES[kind]);
    const done = mine.find((f) => f.id === id);
    if (!done) return;
    for (const other of mine) if (other.id !== done.id) draw.removeFeatures([other.id]);
    field.value = JSON.stringify(done.geometry);
    element.dataset[editing ? "edited" : "drawn"] = "true";
  });
  document.getElementById("draw-again").addEventListener("click", () => {
    draw.clear();
    draw.setMode(MODES[kind]);
    field.value = "";
    delete element.dataset.drawn;
  });
  element.dataset.ready = "true";
});
