// /map: demine's vector tiles in MapLibre GL, layer switches from the panel, a popup with a
// link to the record. Sets window.demineMap (the tests read rendered features through it).
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";

const element = document.getElementById("map");
const labels = JSON.parse(element.dataset.labels);
const rtl = element.dataset.dir === "rtl";
const lang = document.documentElement.lang;
const [west, south, east, north] = element.dataset.bounds.split(",").map(Number);
// Fields whose values are the legend's categories (shown by their label).
const CODED = new Set(["hazard_type", "kind", "release_kind", "category"]);
const SHOWN = ["code", "name", "hazard_type", "status", "kind", "release_kind", "area_m2",
               "category", "model_code", "disposal", "review_status"];

const map = new maplibregl.Map({
  container: element,
  style: element.dataset.style,
  bounds: [[west, south], [east, north]],
  fitBoundsOptions: { padding: 24 },
  attributionControl: { compact: true },
  dragRotate: false,
  pitchWithRotate: false,
});
map.touchZoomRotate.disableRotation();
window.demineMap = map;

const corner = rtl ? "top-left" : "top-right";
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), corner);
map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), rtl ? "bottom-right" : "bottom-left");

function styleLayersOf(name) {
  return map.getStyle().layers.filter((l) => l.metadata && l.metadata["demine:layer"] === name);
}

for (const box of document.querySelectorAll("input[data-layer]")) {
  box.addEventListener("change", () => {
    for (const layer of styleLayersOf(box.dataset.layer)) {
      map.setLayoutProperty(layer.id, "visibility", box.checked ? "visible" : "none");
    }
  });
}

function clickable() {
  return map.getStyle().layers
    .filter((l) => l.metadata && l.metadata["demine:popup"] && !l.id.endsWith("-line"))
    .map((l) => l.id)
    .concat(["activities-line"]);
}

function formatted(field, value) {
  if (CODED.has(field) && labels.values[value]) return labels.values[value];
  if (typeof value === "number" && field === "area_m2") {
    return new Intl.NumberFormat(lang, { maximumFractionDigits: 0 }).format(value);
  }
  return String(value);
}

function popupContent(feature) {
  const layer = feature.layer.metadata["demine:layer"];
  const props = feature.properties;
  const box = document.createElement("div");
  box.className = "popup";
  const title = document.createElement("h2");
  title.textContent = labels.layers[layer] || layer;
  box.append(title);
  const list = document.createElement("dl");
  for (const field of SHOWN) {
    if (props[field] === undefined || props[field] === null || props[field] === "") continue;
    const term = document.createElement("dt");
    term.textContent = labels.fields[field] || field;
    const value = document.createElement("dd");
    value.textContent = formatted(field, props[field]);
    if (field === "code" || field === "model_code") value.dir = "ltr";
    list.append(term, value);
  }
  box.append(list);
  if (props.id !== undefined) {
    const link = document.createElement("a");
    link.href = `/records/${encodeURIComponent(layer)}/${encodeURIComponent(props.id)}`;
    link.textContent = labels.open;
    link.className = "button primary";
    box.append(link);
  }
  return box;
}

map.on("load", () => {
  const layers = clickable().filter((id) => map.getLayer(id));
  map.on("click", (event) => {
    const [feature] = map.queryRenderedFeatures(event.point, { layers });
    if (!feature) return;
    new maplibregl.Popup({ maxWidth: "320px" })
      .setLngLat(event.lngLat)
      .setDOMContent(popupContent(feature))
      .addTo(map);
  });
  for (const id of layers) {
    map.on("mouseenter", id, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", id, () => { map.getCanvas().style.cursor = ""; });
  }
  element.dataset.ready = "true";
});

// Filters (organisation, hazard status and type, reported between two dates): each control
// names the tile property it tests and the layers it applies to; the URL keeps them.
const controls = [...document.querySelectorAll("[data-filter]")];

function expressionFor(control) {
  const value = control.value;
  if (!value) return null;
  const field = ["get", control.dataset.filter];
  if (control.dataset.filter === "organisation_id") return ["==", field, Number(value)];
  if (control.dataset.op) return [control.dataset.op, ["to-string", field], value];
  return ["==", field, value];
}

function applyFilters() {
  const byLayer = {};
  for (const control of controls) {
    const test = expressionFor(control);
    if (!test) continue;
    for (const name of control.dataset.layers.split(" ")) (byLayer[name] ||= []).push(test);
  }
  for (const name of ["hazards", "land_releases", "activities", "eo_finds"]) {
    const tests = byLayer[name] || [];
    for (const layer of styleLayersOf(name)) {
      map.setFilter(layer.id, tests.length ? ["all", ...tests] : null);
    }
  }
  const params = new URLSearchParams(window.location.search);
  for (const control of controls) {
    if (control.value) params.set(control.id, control.value); else params.delete(control.id);
  }
  const query = params.toString();
  window.history.replaceState(null, "", window.location.pathname + (query ? `?${query}` : ""));
}

const asked = new URLSearchParams(window.location.search);
for (const control of controls) {
  if (asked.get(control.id)) control.value = asked.get(control.id);
  control.addEventListener("change", () => applyFilters());
}
document.getElementById("mf-reset").addEventListener("click", () => {
  for (const control of controls) control.value = "";
  applyFilters();
});
map.on("load", () => applyFilters());

// Coordinates under the cursor: latitude and longitude, and the UTM zone they fall in
// (what field teams' GPS and the survey forms use).
const readout = document.getElementById("map-coordinates");
if (readout) {
  const format = new Intl.NumberFormat(lang, { minimumFractionDigits: 5,
                                                maximumFractionDigits: 5 });
  map.on("mousemove", (event) => {
    const { lng, lat } = event.lngLat;
    const zone = Math.min(60, Math.floor((lng + 180) / 6) + 1);
    readout.textContent = `${format.format(lat)}, ${format.format(lng)} · UTM ${zone}${
      lat >= 0 ? "N" : "S"}`;
  });
}
