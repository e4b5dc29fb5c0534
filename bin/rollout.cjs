#!/usr/bin/env node
// The `rollout` bin (package.json "bin"): runs cli/rollout.ts through ts-node,
// transpile-only (types are checked by `npm run typecheck`, not at run time).
"use strict";
const path = require("node:path");
require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
require("../cli/rollout.ts").runMain(process.argv);
