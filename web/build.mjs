// Builds the customer app and the till simulator (web/app) into assets/web,
// which treued embeds: two minified ES bundles, their style sheet and the
// two pages.
// The output depends only on the sources and the pinned esbuild, so CI
// rebuilds it and fails when it differs from the committed files.
//
//   node web/build.mjs           build
//   node web/build.mjs --sizes   build and print each file's size, raw and gzipped

import { build } from "esbuild";
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const web = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(web, "app");
const out = path.resolve(web, "../assets/web");

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

// The bundles and the style sheet get their content's hash in their names,
// so treued lets browsers keep them for a year without asking again; the
// pages, which name them, are revalidated on every load.
const result = await build({
  entryPoints: {
    customer: path.join(src, "customer.ts"),
    till: path.join(src, "till.ts"),
    app: path.join(src, "app.css"),
  },
  outdir: out,
  entryNames: "[name]-[hash]",
  bundle: true,
  format: "esm",
  // Safari 15 and Chrome 100 cover the phones a loyalty app meets.
  target: ["es2021", "safari15", "chrome100"],
  minify: true,
  legalComments: "none",
  charset: "utf8",
  metafile: true,
  logLevel: "warning",
});

// Point the pages at the hashed names.
const hashed = {};
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  const entry = path.basename(meta.entryPoint ?? "");
  hashed[entry.replace(/\.ts$/, ".js")] = path.basename(file);
}
for (const page of ["index.html", "till.html"]) {
  let html = await readFile(path.join(src, page), "utf8");
  html = html.replace(/\/web\/([a-z]+\.(?:js|css))/g, (m, name) => {
    if (!hashed[name]) throw new Error(`${page} names /web/${name}, which the build does not make`);
    return `/web/${hashed[name]}`;
  });
  await writeFile(path.join(out, page), html);
}
await copyFile(path.join(src, "README.md"), path.join(out, "README.md"));

if (process.argv.includes("--sizes")) {
  for (const f of (await readdir(out)).sort()) {
    const b = await readFile(path.join(out, f));
    console.log(`${f.padEnd(24)} ${String(b.length).padStart(7)} B  gzip ${String(gzipSync(b, { level: 9 }).length).padStart(6)} B`);
  }
}
