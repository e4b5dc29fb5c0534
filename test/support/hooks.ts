/** Mocha root hooks: shared resources started lazily by suites are stopped once, at the end. */
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
