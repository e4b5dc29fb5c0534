/**
 * Issue 13 §3 item 8: each config warning is worded for the state it sees. Both flags off with a
 * percentage above 0 is the guide's immediate rollback only when the flags were on before; from week 1
 * (flags off at 0 %) it is a percentage set before the flags. Flags off at 0 % warns nothing.
 */
import { strict as assert } from "node:assert";
import { plan } from "../../cli/plan";
import { configWarnings } from "../../core/config";
import { parseSet } from "../../offline/plan";
import { RolloutState, STAGES } from "../../core/stages";
import { testConfig } from "../alerts/support";

const state = (canaryPercentage: (typeof STAGES)[number], on: boolean): RolloutState => ({
  canaryPercentage,
  enableStatelessOrchestration: on,
  enableSafeJsonParser: on,
});

function warnings(s: RolloutState, previous?: RolloutState): string[] {
  return configWarnings(
    testConfig({ canaryPercentage: String(s.canaryPercentage), enableStatelessOrchestration: String(s.enableStatelessOrchestration), enableSafeJsonParser: String(s.enableSafeJsonParser) }),
    previous,
  );
}

describe("config warnings are worded for the state they see (issue 13 §3 item 8)", () => {
  it("every stage, flags on or off, from every kind of previous state", () => {
    const previous: (RolloutState | undefined)[] = [undefined, state(0, false), state(25, true), state(25, false)];
    for (const p of STAGES) {
      for (const prev of previous) {
        const label = `${p}% from ${prev ? JSON.stringify(prev) : "(unknown)"}`;
        assert.deepEqual(warnings(state(p, true), prev), [], `flags on at ${label}`);
        const off = warnings(state(p, false), prev);
        if (p === 0) {
          assert.deepEqual(off, [], `week 1 (flags off at 0%) warns nothing: ${label}`);
          continue;
        }
        assert.equal(off.length, 1, label);
        const [w] = off;
        assert.match(w, new RegExp(`canaryPercentage is ${p} but both flags are off: the percentage has no effect`), label);
        if (prev === undefined || (!prev.enableSafeJsonParser && prev.canaryPercentage > 0)) {
          assert.match(w, /either the guide's immediate rollback .* or a percentage set before the flags were turned on/, label);
        } else if (prev.enableSafeJsonParser) {
          assert.match(w, /\(the guide's immediate rollback: flags turned off/, label);
          assert.doesNotMatch(w, /before the flags/, label);
        } else {
          assert.match(w, /a percentage set before the flags were turned on/, label);
          assert.doesNotMatch(w, /immediate rollback/, label);
        }
      }
    }
  });

  it("plan --stack prod --set canaryPercentage=25 in week 1 (flags off) does not call it an immediate rollback", async function () {
    this.timeout(120_000);
    const text = await plan({ stack: "prod", set: [parseSet("canaryPercentage=25")], json: false });
    assert.match(text, /canaryPercentage is 25 but both flags are off: .*a percentage set before the flags were turned on/);
    assert.doesNotMatch(text, /immediate rollback/);
  });

  it("plan --stack dev turning both flags off at 10 % calls it the guide's immediate rollback", async function () {
    this.timeout(120_000);
    const text = await plan({ stack: "dev", set: [parseSet("enableStatelessOrchestration=false"), parseSet("enableSafeJsonParser=false")], json: false });
    assert.match(text, /canaryPercentage is 10 but both flags are off: .*\(the guide's immediate rollback: flags turned off/);
  });
});
