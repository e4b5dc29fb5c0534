// Where the project's entry points load from: the compiled JavaScript in dist/ (npm ci builds it through
// the package's `prepare` script: tools/build.cjs), or, when dist/ does not match the sources (a file edited
// since the build, a checkout without a build), the TypeScript sources through ts-node, transpile-only.
// dist/ matches when every source's SHA-1 equals the one recorded at build time (dist/build.json; a file whose
// size and modification time are those recorded is not read again), so a stale
// build is never run: an edit takes effect at once, compiled again by `npm run build`. docs/layout.md.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const DIST = path.join(ROOT, "dist");
const STAMP = path.join(DIST, "build.json");

/** SHA-1 of a file's bytes (hex). */
function digest(file) {
  return require("node:crypto").createHash("sha1").update(fs.readFileSync(file)).digest("hex");
}

/** The build's record: { sources: { "<path from the root>": { sha1, size, mtimeMs } } }, or null without a build. */
function readStamp() {
  try {
    return JSON.parse(fs.readFileSync(STAMP, "utf8"));
  } catch {
    return null;
  }
}

let freshCache;
/**
 * True when dist/ was built from exactly the sources on disk (every recorded file unchanged). Checked once
 * per process; `recheck` checks again (after a build in the same process, as the tests make).
 */
function distIsFresh(recheck = false) {
  if (!recheck && freshCache !== undefined) return freshCache;
  const stamp = readStamp();
  freshCache = false;
  if (stamp === null || typeof stamp.sources !== "object" || stamp.sources === null) return freshCache;
  try {
    for (const [rel, rec] of Object.entries(stamp.sources)) {
      const file = path.join(ROOT, rel);
      // The same size and modification time as at build time: unchanged, without reading it (a checkout or a
      // copy changes the time; then the content decides).
      const st = fs.statSync(file);
      if (st.size === rec.size && st.mtimeMs === rec.mtimeMs) continue;
      if (digest(file) !== rec.sha1) return freshCache;
    }
  } catch {
    return freshCache; // a source removed since the build
  }
  freshCache = true;
  return freshCache;
}

let registered = false;
/** Load TypeScript sources from here on (as the scripts did before the build existed). */
function registerTsNode() {
  if (registered) return;
  require("ts-node").register({ transpileOnly: true, project: path.join(ROOT, "tsconfig.json") });
  registered = true;
}

/**
 * The file to load for a module named from the project root without extension (e.g. "cli/rollout"):
 * dist/cli/rollout.js when the build is fresh, else cli/rollout.ts with ts-node registered.
 * ROLLOUT_TS_NODE=1 forces the sources (the bench's comparison).
 */
function entryFile(rel) {
  if (process.env.ROLLOUT_TS_NODE !== "1" && distIsFresh()) return path.join(DIST, `${rel}.js`);
  registerTsNode();
  return path.join(ROOT, `${rel}.ts`);
}

module.exports = { ROOT, DIST, STAMP, digest, distIsFresh, entryFile, registerTsNode };
