/**
 * The faults the drill and the sandbox can inject, the verdict each must produce, and the default stage:
 * what `rollout drill --inject` and `rollout sandbox --inject` parse, kept apart from the drill itself so the
 * command line is read without loading the drill (a fast `--help`). Pure.
 */
import type { Verdict } from "./gate";
import { STAGES, Stage } from "./stages";

export const INJECTS = ["error-spike", "latency", "contamination"] as const;
export type Inject = (typeof INJECTS)[number];

/** The verdict each injected fault must produce. */
export const EXPECTED_VERDICT: Readonly<Record<Inject, Verdict>> = Object.freeze({
  "error-spike": "PAUSE",
  latency: "PAUSE",
  contamination: "ROLLBACK",
});

/** The stage where a fault is injected unless told otherwise: the first gradual stage. */
export const DEFAULT_INJECT_STAGE: Stage = STAGES[2];
