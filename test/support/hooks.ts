/**
 * Mocha root hooks: shared resources started lazily by suites are stopped once, at the end.
 * The tests run the TypeScript sources (ts-node), never the build in dist/: the entry points (bin/load.cjs),
 * the offline program and the CLIs the tests spawn read ROLLOUT_TS_NODE (test/rollout/bin.test.ts runs the
 * shipped build on purpose).
 */
process.env.ROLLOUT_TS_NODE = "1";
import { sweepTestResources } from "./docker";
import { stopSharedPostgres } from "./postgres";

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    await stopSharedPostgres();
    // Whatever a [docker] suite left behind (its own after hooks remove it first).
    await sweepTestResources();
  },
};
