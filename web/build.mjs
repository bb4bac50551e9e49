// Bundles the voter's pages (src/app.js and the booth's libraries from package-lock.json) into
// api/web/static/booth.js, and the committee's and operator's console (src/console/) into
// api/web/static/console.js and console.css. The output is committed; tests/web/test_bundle.py
// rebuilds it from the lock file in a temporary copy and fails if one byte differs.
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "browser",
  target: ["es2022"],
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  logLevel: "warning",
};

await build({ ...common, entryPoints: ["src/app.js"], outfile: "../api/web/static/booth.js", format: "iife" });
await build({
  ...common,
  entryPoints: ["src/console/main.js"],
  outfile: "../api/web/static/console.js",
  format: "iife",
});
await build({ ...common, entryPoints: ["src/console/console.css"], outfile: "../api/web/static/console.css" });
