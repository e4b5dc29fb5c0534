/**
 * The assessment `rollout status`, `gate` and `advance` share: the configured state (stack config), the
 * deployed state (the newest rollout record), the gate's verdict on the deployed stage from the metrics
 * since that record, and, for status, the live views. One connected client in, no printing out: the CLI
 * connects and formats (cli/rollout.ts, cli/rolloutText.ts).
 */
import type { ClientBase } from "pg";
import { RolloutConfig } from "../core/configSchema";
import { ExposureCheck, GateResult } from "../core/gate";
import { evaluateGate } from "../core/gateText";
import { RolloutState, flagText, rolloutState, sameState } from "../core/stages";
import { JudgeInput } from "./reportData";
import { LiveViews, RolloutEvent, databaseNow, readGateMetrics, readHistory, readLiveViews, recordGateLook, type GateLooks } from "./rolloutStore";

export interface Assessment {
  configured: RolloutState;
  deployed: RolloutState;
  deployedFromRecords: boolean;
  deployedSince: Date | null;
  history: RolloutEvent[];
  asOf: Date;
  gate: GateResult;
  exposure: ExposureCheck;
  notes: string[];
}

/** The gate `rollout gate` runs, for one stage, with the stack's thresholds and gate settings; the drill judges each stage with it too. */
export function judgeStage(settings: Pick<RolloutConfig, "thresholds" | "gate">, s: JudgeInput): GateResult {
  return evaluateGate({ ...s, thresholds: settings.thresholds, gate: settings.gate });
}

/** Assess the stack's deployed stage; with `withViews`, read the live monitoring views too. Counts one look at the stage. */
export async function assessStack(c: ClientBase, stack: string, cfg: RolloutConfig, withViews: boolean): Promise<Assessment & { views?: LiveViews }> {
  const asOf = await databaseNow(c);
  const history = await readHistory(c, stack, asOf, 10);
  const configured = rolloutState(cfg);
  const notes: string[] = [];
  const ev = history.current;
  const deployed: RolloutState = ev ? { canaryPercentage: ev.toStage, ...ev.flags } : configured;
  if (!ev) notes.push(`no rollout record for stack "${stack}" yet: the deployed stage is assumed to be the configured one and its soak time is unknown`);
  else if (!sameState(configured, deployed)) {
    notes.push(
      `Pulumi.${stack}.yaml says ${configured.canaryPercentage}% (${flagText(configured)}) but ${deployed.canaryPercentage}% (${flagText(deployed)}) is deployed: the change is not applied yet (its pull request is not merged, or the merge's pulumi up has not finished)`,
    );
  }
  const metrics = await readGateMetrics(c, ev?.createdAt, asOf, { thresholds: cfg.thresholds, soakHours: cfg.gate.soakHours });
  // One look at this stage, counted for the reader (sql/0030): the bounds do not depend on it.
  const look: GateLooks = ev ? await recordGateLook(c, ev.id) : { looks: null, note: "not counted: the stage has no rollout record" };
  const gate = judgeStage(cfg, { stage: deployed.canaryPercentage, flags: deployed, stageStartedAt: ev?.createdAt, asOf, metrics, looks: look.looks ?? undefined, looksNote: look.note, ...(cfg.hold ? { hold: cfg.hold } : {}) });
  const views = withViews ? await readLiveViews(c) : undefined;
  return { configured, deployed, deployedFromRecords: ev !== undefined, deployedSince: ev?.createdAt ?? null, history: history.events, asOf, gate, exposure: gate.exposure, notes, views };
}
