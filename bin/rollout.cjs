#!/usr/bin/env node
// The `rollout` bin (package.json "bin"): runs cli/rollout.ts, compiled (dist/) when the build matches the
// sources, else through ts-node (bin/load.cjs).
"use strict";
require(require("./load.cjs").entryFile("cli/rollout")).runMain(process.argv);
