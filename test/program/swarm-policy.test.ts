/**
 * core/swarm.ts: an immediate rollback updates every task at once, everything
 * else one task at a time; both start-first behind the same health gate. The
 * rule is read from the declared state, the state `rollout rollback
 * --immediate` writes (core/transitions.ts), so the CLI and the program agree.
 */
import { strict as assert } from "node:assert";
import { namespaced, parseConfig } from "../../core/config";
import { RolloutConfig } from "../../core/configSchema";
import { planAdvance, planRollback } from "../../core/transitions";
import { programConfig } from "../../stack/stackFile";
import { STAGES, RolloutState, isImmediateRollbackState } from "../../core/stages";
import { ALL_AT_ONCE, ONE_AT_A_TIME, ROLLBACK_POLICY, updateParallelism, updatePolicy } from "../../core/swarm";
import { appService, evaluateStack, serviceInputs, stackFile } from "../support/program";

const BOOLS = [false, true] as const;
const allStates: RolloutState[] = STAGES.flatMap((canaryPercentage) =>
  BOOLS.flatMap((enableStatelessOrchestration) => BOOLS.map((enableSafeJsonParser) => ({ canaryPercentage, enableStatelessOrchestration, enableSafeJsonParser }))),
);

function config(state: RolloutState): RolloutConfig {
  const raw = namespaced(programConfig(stackFile("prod")).config);
  return parseConfig({ ...raw, canaryPercentage: String(state.canaryPercentage), enableStatelessOrchestration: String(state.enableStatelessOrchestration), enableSafeJsonParser: String(state.enableSafeJsonParser) }, { stack: "prod" });
}

describe("the service's update policy (core/swarm.ts)", () => {
  it("every state: all tasks at once exactly in the guide's immediate-rollback state, one at a time otherwise; always start-first with rollback on failure", () => {
    for (const s of allStates) {
      const p = updatePolicy(s);
      assert.equal(p.parallelism, isImmediateRollbackState(s) ? ALL_AT_ONCE : ONE_AT_A_TIME, JSON.stringify(s));
      assert.equal(p.order, "start-first");
      assert.equal(p.failureAction, "rollback");
    }
    assert.equal(ROLLBACK_POLICY.order, "start-first");
  });

  it("`rollout rollback --immediate` from any flags-on stage writes a state that updates every task at once", () => {
    for (const s of allStates.filter((x) => x.enableStatelessOrchestration && x.enableSafeJsonParser && x.canaryPercentage > 0)) {
      assert.equal(updateParallelism(planRollback(config(s), true).to), ALL_AT_ONCE, `from ${s.canaryPercentage} %`);
    }
  });

  it("gradual rollbacks and advances update one task at a time", () => {
    for (const s of allStates.filter((x) => x.enableStatelessOrchestration && x.enableSafeJsonParser)) {
      if (s.canaryPercentage > 0) assert.equal(updateParallelism(planRollback(config(s), false).to), ONE_AT_A_TIME, `back from ${s.canaryPercentage} %`);
      if (s.canaryPercentage < 100) assert.equal(updateParallelism(planAdvance(config(s)).to), ONE_AT_A_TIME, `on from ${s.canaryPercentage} %`);
    }
    // Recovering from an immediate rollback (advance turns both flags back on) is gradual again.
    const rolledBack = planRollback(config({ canaryPercentage: 50, enableStatelessOrchestration: true, enableSafeJsonParser: true }), true).to;
    assert.equal(updateParallelism(planAdvance(config(rolledBack)).to), ONE_AT_A_TIME);
  });

  it("the program declares it: prod at 50 % with the flags on, then rolled back immediately", async function () {
    this.timeout(60_000);
    const on = await evaluateStack("prod", { sets: { canaryPercentage: "50", enableStatelessOrchestration: "true", enableSafeJsonParser: "true" } });
    const off = await evaluateStack("prod", { sets: { canaryPercentage: "50", enableStatelessOrchestration: "false", enableSafeJsonParser: "false" } });
    assert.equal(serviceInputs(appService(on)).updateConfig?.parallelism, ONE_AT_A_TIME);
    assert.equal(serviceInputs(appService(off)).updateConfig?.parallelism, ALL_AT_ONCE);
    assert.equal(serviceInputs(appService(off)).updateConfig?.order, "start-first", "still start-first: the health gate holds");
  });
});
