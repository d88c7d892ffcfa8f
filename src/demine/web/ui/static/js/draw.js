// The new-record form: draw the record's geometry (terra-draw on MapLibre, over the map
// page's base layers); what is drawn is written as GeoJSON into the form's geometry field,
// which the server validates (its finding is shown next to the field). window.demineDraw
// and window.demineDrawMap let the tests drive it.
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";

const element = document.getElementById("draw-map");
const field = document.getElementById("f-geometry");
const kind = element.dataset.kind; // Polygon, Point or LineString
const MODES = { Polygon: "polygon", Point: "point", LineString: "linestring" };

const BASE = new Set(["admin_areas", "terrain_lines", "places", "hazards", "basemap"]);
const style = await fetch("/map/style.json").then((r) => r.json());
style.layers = style.layers.filter((l) => l.type === "background" || BASE.has(l.source));
const bounds = await fetch("/tiles/admin_areas.json").then((r) => r.json()).then((t) => t.bounds);
const map = new maplibregl.Map({
  container: element, style, bounds: [[bounds[0], bounds[1]], [bounds[2], bounds[3]]],
  attributionControl: false, dragRotate: false,
});
window.demineDrawMap = map;

function shown() {
  try {
    const value = JSON.parse(field.value);
    return value && value.type ? value : null;
  } catch {
    return null;
  }
}

map.on("load", () => {
  const { TerraDraw, TerraDrawPolygonMode, TerraDrawPointMode, TerraDrawLineStringMode } =
    window.terraDraw;
  const draw = new TerraDraw({
    adapter: new window.terraDrawMaplibreGlAdapter.TerraDrawMapLibreGLAdapter({ map }),
    modes: [new TerraDrawPolygonMode(), new TerraDrawPointMode(), new TerraDrawLineStringMode()],
  });
  draw.start();
  draw.setMode(MODES[kind]);
  window.demineDraw = draw;
  const earlier = shown(); // a form sent back with a finding keeps what was drawn
  if (earlier && earlier.type === kind) {
    draw.addFeatures([{ type: "Feature", geometry: earlier, properties: { mode: MODES[kind] } }]);
  }
  draw.on("finish", (id) => {
    const features = draw.getSnapshot();
    const done = features.find((f) => f.id === id) || features[features.length - 1];
    for (const other of features) if (other.id !== done.id) draw.removeFeatures([other.id]);
    field.value = JSON.stringify(done.geometry);
    element.dataset.drawn = "true";
  });
  document.getElementById("draw-again").addEventListener("click", () => {
    draw.clear();
    field.value = "";
    delete element.dataset.drawn;
  });
  element.dataset.ready = "true";
});
