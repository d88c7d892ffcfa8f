// Copies the front-end libraries the web UI needs from node_modules (installed by `npm ci` from
// package-lock.json) into src/demine/web/static/vendor/, with their licences, and writes
// manifest.json (file, bytes, sha256, package version). Run by `make assets`; the output is
// git-ignored: no third-party code is committed and nothing is fetched from a CDN at run time.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "src", "demine", "web", "static", "vendor");

// The packages publish their licence in package.json (recorded in the manifest); the files
// that carry one are copied too.
// package → [file in the package, name under vendor/<folder>/]
const FILES = {
  "maplibre-gl": ["maplibre-gl", [
    ["dist/maplibre-gl.mjs"], ["dist/maplibre-gl-worker.mjs"], ["dist/maplibre-gl-shared.mjs"],
    ["dist/maplibre-gl.css"], ["LICENSE.txt"]]],
  "swagger-ui-dist": ["swagger-ui", [
    ["swagger-ui-bundle.js"], ["swagger-ui.css"], ["LICENSE"], ["NOTICE"]]],
  "chart.js": ["chart.js", [["dist/chart.umd.min.js", "chart.umd.min.js"], ["LICENSE.md"]]],
  "terra-draw": ["terra-draw", [["dist/terra-draw.umd.js"]]],
  "terra-draw-maplibre-gl-adapter": ["terra-draw", [
    ["dist/terra-draw-maplibre-gl-adapter.umd.js"]]],
};

rmSync(out, { recursive: true, force: true });
const manifest = {};
for (const [pkg, [folder, files]] of Object.entries(FILES)) {
  const base = join(root, "node_modules", pkg);
  const { version, license } = JSON.parse(readFileSync(join(base, "package.json"), "utf8"));
  mkdirSync(join(out, folder), { recursive: true });
  for (const [source, target] of files) {
    const name = target ?? source.split("/").pop();
    const dest = join(out, folder, name);
    copyFileSync(join(base, source), dest);
    const data = readFileSync(dest);
    manifest[`${folder}/${name}`] = {
      package: pkg, version, license, bytes: data.length,
      sha256: createHash("sha256").update(data).digest("hex"),
    };
  }
}
// Noto fonts for Hangul and Arabic script (the system stack covers Latin and Cyrillic): the
// 400 and 700 weights as WOFF2 only, split by unicode-range so a page loads just the slices
// it shows.
const FONTS = { "@fontsource/noto-sans-kr": "noto-sans-kr", "@fontsource/noto-sans-arabic":
  "noto-sans-arabic" };
for (const [pkg, name] of Object.entries(FONTS)) {
  const base = join(root, "node_modules", pkg);
  const { version, license } = JSON.parse(readFileSync(join(base, "package.json"), "utf8"));
  mkdirSync(join(out, "fonts"), { recursive: true });
  const css = ["400.css", "700.css"].map((f) => readFileSync(join(base, f), "utf8")).join("\n")
    .replace(/, url\([^)]*\.woff\) format\('woff'\)/g, "");
  for (const [, file] of css.matchAll(/url\(\.\/files\/([^)]+\.woff2)\)/g)) {
    copyFileSync(join(base, "files", file), join(out, "fonts", file));
  }
  const files = { [`${name}.css`]: css.replaceAll("./files/", "./"),
                  [`${name}-LICENSE`]: readFileSync(join(base, "LICENSE")) };
  for (const [file, data] of Object.entries(files)) {
    writeFileSync(join(out, "fonts", file), data);
    manifest[`fonts/${file}`] = { package: pkg, version, license, bytes: Buffer.byteLength(data),
      sha256: createHash("sha256").update(data).digest("hex") };
  }
}
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
const total = Object.values(manifest).reduce((sum, f) => sum + f.bytes, 0);
console.log(`assets: ${Object.keys(manifest).length} files, ${(total / 1e6).toFixed(2)} MB ` +
            `in ${out}`);
