// Bundles the voter's pages (src/app.js and the booth's libraries from package-lock.json) into
// api/web/static/booth.js. The output is committed; tests/web/test_bundle.py rebuilds it from
// the lock file in a temporary copy and fails if one byte differs.
import { build } from "esbuild";

await build({
  entryPoints: ["src/app.js"],
  outfile: "../api/web/static/booth.js",
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  logLevel: "warning",
});
