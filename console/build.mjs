// Builds the console into dist/ (or the directory given as the first argument): the bundled, minified modules
// (app.js; Chart.js and jsQR in chunks loaded by the pages that use them), the page and its stylesheet. The
// console loads nothing from any other origin.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2] || "dist";
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  format: "esm",
  splitting: true, // Chart.js and jsQR load with the page that uses them, not with the first page
  target: ["es2020"],
  outdir: out,
  entryNames: "app",
  chunkNames: "chunks/[name]-[hash]",
  legalComments: "linked",
  logLevel: "warning",
});
for (const name of readdirSync("src")) {
  if (name.endsWith(".html") || name.endsWith(".css") || name.endsWith(".svg")) copyFileSync(join("src", name), join(out, name));
}
