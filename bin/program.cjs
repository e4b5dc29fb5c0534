// The Pulumi program's entry point (Pulumi.yaml `main:`): index.ts, compiled (dist/index.js) when the build
// matches the sources, else through ts-node (bin/load.cjs). index.ts stays the source a reviewer reads; its
// exports are the stack's outputs.
"use strict";
const load = require("./load.cjs");
if (process.env.ROLLOUT_TS_NODE !== "1" && load.distIsFresh()) {
  module.exports = require("../dist/index.js");
} else {
  load.registerTsNode();
  module.exports = require("../index.ts");
}
