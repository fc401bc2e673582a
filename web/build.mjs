// Bundles and minifies the page (web/src/app.ts, web/src/app.css) into
// OUT/assets/app.js and OUT/assets/app.css; web/build.sh runs it. The
// output depends only on the inputs: no timestamps, no paths, no maps.
import * as esbuild from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";

const web = path.dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
if (!out) {
  console.error("usage: node build.mjs OUTDIR");
  process.exit(2);
}

// The generated client (clients/typescript/src/index.ts) imports
// openapi-fetch: take it from web/node_modules (pinned by
// web/package-lock.json), never from clients/typescript/node_modules.
const fromWeb = {
  name: "packages-from-web",
  setup(build) {
    build.onResolve({ filter: /^openapi-fetch$/ }, async (args) => {
      if (args.pluginData === "from-web") return undefined;
      const r = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: web,
        pluginData: "from-web",
      });
      if (r.errors.length > 0) return { errors: r.errors };
      return { path: r.path, sideEffects: r.sideEffects };
    });
  },
};

await esbuild.build({
  absWorkingDir: web,
  entryPoints: ["src/app.ts", "src/app.css"],
  outdir: path.join(path.resolve(out), "assets"),
  entryNames: "[name]",
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  charset: "utf8",
  legalComments: "none",
  sourcemap: false,
  metafile: false,
  logLevel: "warning",
  plugins: [fromWeb],
});
