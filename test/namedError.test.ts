/** core/namedError.ts: the one base of the error classes that carry their own name (cli/rollout.ts, core/transitions.ts, stack/stackEditError.ts). */
import { strict as assert } from "node:assert";
import { StateError, UsageError } from "../cli/rollout";
import { NamedError } from "../core/namedError";
import { RefusedError } from "../core/transitions";
import { StackEditError } from "../stack/stackEditError";

describe("NamedError: an error named after its class", () => {
  it("each former hand-written class keeps its name, message and kind", () => {
    for (const [Kind, name] of [[UsageError, "UsageError"], [StateError, "StateError"], [StackEditError, "StackEditError"], [RefusedError, "RefusedError"]] as const) {
      const e = new Kind("why it failed");
      assert.equal(e.name, name);
      assert.equal(e.message, "why it failed");
      assert.equal(String(e), `${name}: why it failed`);
      assert.ok(e instanceof Kind && e instanceof NamedError && e instanceof Error);
    }
    // Distinct kinds: a refusal is not a usage error.
    assert.ok(!(new RefusedError("x") instanceof UsageError));
  });

  it("a subclass of a subclass is named after itself", () => {
    class Inner extends RefusedError {}
    assert.equal(new Inner("x").name, "Inner");
  });
});
