#!/usr/bin/env node
// `npm run build` (and the package's `prepare`, so `npm ci` runs it): compiles the entry points' TypeScript
// (tsconfig.build.json's files) into dist/, one file at a time with ts.transpileModule, the transform ts-node
// applies at run time in transpile-only mode, so the built JavaScript is the code the sources run as under
// ts-node. Types are checked by `npm run typecheck`, not here. Records each source's SHA-1 in dist/build.json:
// bin/load.cjs runs dist/ only while every one matches (docs/layout.md, "Compiled entry points").
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const ts = require("typescript");
const { ROOT, DIST, STAMP, digest } = require("../bin/load.cjs");

function main() {
  const started = Date.now();
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.build.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  });
  if (config.errors.length > 0) throw new Error(config.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n"));
  // Written beside, then swapped in, so a failed build leaves the previous one (or none) and never half of one.
  const next = `${DIST}.next`;
  fs.rmSync(next, { recursive: true, force: true });
  const sources = {};
  for (const file of [...config.fileNames].sort()) {
    const rel = path.relative(ROOT, file).split(path.sep).join("/");
    const text = fs.readFileSync(file, "utf8");
    const out = ts.transpileModule(text, { compilerOptions: { ...config.options, sourceMap: false, inlineSourceMap: false, declaration: false }, fileName: file, reportDiagnostics: true });
    const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (errors.length > 0) throw new Error(`${rel}: ${errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("; ")}`);
    const target = path.join(next, rel.replace(/\.ts$/, ".js"));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, out.outputText);
    const st = fs.statSync(file);
    sources[rel] = { sha1: digest(file), size: st.size, mtimeMs: st.mtimeMs };
  }
  fs.writeFileSync(path.join(next, path.basename(STAMP)), JSON.stringify({ sources }, null, 1) + "\n");
  fs.rmSync(DIST, { recursive: true, force: true });
  fs.renameSync(next, DIST);
  process.stderr.write(`build: compiled ${Object.keys(sources).length} files into dist/ (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`build: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
