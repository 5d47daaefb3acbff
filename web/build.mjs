// Builds the customer app and the till simulator (web/app) into assets/web,
// which treued embeds: two minified ES bundles, their style sheet and pages.
// The output depends only on the sources and the pinned esbuild, so CI
// rebuilds it and fails when it differs from the committed files.
//
//   node web/build.mjs           build
//   node web/build.mjs --sizes   build and print each file's size, raw and gzipped

import { build } from "esbuild";
import { copyFile, mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const web = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(web, "app");
const out = path.resolve(web, "../assets/web");

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

await build({
  entryPoints: {
    customer: path.join(src, "customer.ts"),
    till: path.join(src, "till.ts"),
  },
  outdir: out,
  bundle: true,
  format: "esm",
  // Safari 15 and Chrome 100 cover the phones a loyalty app meets.
  target: ["es2021", "safari15", "chrome100"],
  minify: true,
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
});

for (const f of ["index.html", "till.html", "app.css", "README.md"]) {
  await copyFile(path.join(src, f), path.join(out, f));
}

if (process.argv.includes("--sizes")) {
  for (const f of (await readdir(out)).sort()) {
    const b = await readFile(path.join(out, f));
    console.log(`${f.padEnd(12)} ${String(b.length).padStart(7)} B  gzip ${String(gzipSync(b, { level: 9 }).length).padStart(6)} B`);
  }
}
