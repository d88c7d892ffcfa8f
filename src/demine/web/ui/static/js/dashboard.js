// /dashboard: draws each chart with Chart.js (the classic script loaded before this module
// sets window.Chart) from the figures the server rendered into the tables, then folds the
// tables (one click opens them again). Sorts the remaining-by-region table and its chart.
// Sets window.demineCharts (the tests read the Chart instances through it) and
// window.demineChartsDrawn (ms from navigation start to the charts drawn).
const holder = document.getElementById("dashboard-charts");
const specs = JSON.parse(holder.dataset.charts);
const lang = document.documentElement.lang;
const rtl = document.documentElement.dir === "rtl";
const format = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
const ink = "#1d2329";
const grid = "#e3e8ec";

function dataset(series, horizontal) {
  const hatched = series.hatched;
  return {
    label: series.label,
    data: series.data,
    stack: series.stack,
    backgroundColor: hatched ? `${series.colour}80` : series.colour,
    borderColor: series.colour,
    borderWidth: hatched ? 2 : 0,
    borderSkipped: horizontal ? "start" : "bottom",
    maxBarThickness: 56,
  };
}

function options(spec) {
  const unit = spec.unit ? ` ${spec.unit}` : "";
  const value = { stacked: spec.stacked, beginAtZero: true, grid: { color: grid },
                  ticks: { color: ink, precision: 0, callback: (v) => format.format(v) } };
  const category = { stacked: spec.stacked, grid: { display: false }, ticks: { color: ink },
                     reverse: rtl && !spec.horizontal };
  return {
    indexAxis: spec.horizontal ? "y" : "x",
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    locale: lang,
    scales: spec.horizontal ? { x: { ...value, reverse: rtl },
                                y: { ...category, position: rtl ? "right" : "left" } }
                            : { x: category, y: { ...value, position: rtl ? "right" : "left" } },
    plugins: {
      legend: { display: spec.datasets.length > 1, rtl, labels: { color: ink, boxWidth: 14 } },
      tooltip: {
        rtl,
        callbacks: { label: (c) => `${c.dataset.label}: ${format.format(c.raw)}${unit}` },
      },
    },
  };
}

window.demineCharts = {};
Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
for (const canvas of holder.querySelectorAll("canvas[data-chart]")) {
  const spec = specs[canvas.dataset.chart];
  window.demineCharts[canvas.dataset.chart] = new Chart(canvas, {
    type: "bar",
    data: { labels: spec.labels, datasets: spec.datasets.map((s) => dataset(s, spec.horizontal)) },
    options: options(spec),
  });
  const table = canvas.closest("section").querySelector("details.table-view");
  if (table) table.open = false;
}

// When the charts were drawn, in ms since the navigation started (the browser test's timing).
window.demineChartsDrawn = performance.now();

// Sorting the remaining-by-region table (its chart follows the table's order).
function sortBy(table, button) {
  const header = button.closest("th");
  const column = [...header.parentElement.children].indexOf(header);
  const numeric = button.dataset.sort === "number";
  const current = header.getAttribute("aria-sort");
  // a new column: names A to Z, figures largest first; the same column again: reversed
  const descending = current === "none" ? numeric : current === "ascending";
  const key = (row) => {
    const cell = row.children[column];
    return numeric ? Number(cell.dataset.sortValue) : cell.textContent.trim();
  };
  const body = table.tBodies[0];
  const rows = [...body.rows].sort((a, b) => {
    const order = numeric ? key(a) - key(b) : key(a).localeCompare(key(b), lang);
    return descending ? -order : order;
  });
  body.append(...rows);
  for (const th of header.parentElement.children) {
    if (th.hasAttribute("aria-sort")) th.setAttribute("aria-sort", "none");
  }
  header.setAttribute("aria-sort", descending ? "descending" : "ascending");
  const chart = window.demineCharts.remaining;
  if (chart) {
    const names = rows.map((r) => r.children[0].textContent.trim());
    const values = rows.map((r) => Number(r.children[1].dataset.sortValue));
    chart.data.labels = names;
    chart.data.datasets[0].data = values;
    chart.update();
  }
}

for (const table of document.querySelectorAll("table.sortable")) {
  for (const button of table.querySelectorAll("button[data-sort]")) {
    button.addEventListener("click", () => sortBy(table, button));
  }
}
