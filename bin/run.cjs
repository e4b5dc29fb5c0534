#!/usr/bin/env node
// Runs one of the project's scripts as its own main module, compiled when the build matches the sources
// (bin/load.cjs): `node bin/run.cjs cli/plan --stack prod` is `ts-node cli/plan.ts --stack prod`, without the
// compilation. package.json's scripts call it.
"use strict";
const Module = require("node:module");
const rel = process.argv[2];
if (rel === undefined || !/^[a-z]+\/[A-Za-z-]+$/.test(rel)) {
  process.stderr.write(`bin/run.cjs: "${rel ?? ""}" is not a script; allowed: a module path from the project root without extension, e.g. cli/plan\n`);
  process.exit(2);
}
process.argv.splice(1, 2, require("./load.cjs").entryFile(rel));
Module.runMain();
