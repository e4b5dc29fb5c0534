/**
 * Edits of `Pulumi.<stack>.yaml` for `rollout advance`, `rollback`, `hold` and `release`,
 * with the same effect as `pulumi config set` (string values in the
 * `valuecanvas:` namespace): read the file, plan the change (the policy:
 * core/transitions.ts), splice it into the text byte-exactly (stack/splice.ts),
 * check that the result re-parses (stack/stackFile.ts), validates
 * (core/config.ts) and means exactly the intended change, diff it
 * (stack/diff.ts), and write it atomically (stack/writeStack.ts).
 */
import * as path from "node:path";
import { CONFIG_NAMESPACE, RolloutConfig } from "../core/configSchema";
import { isStage } from "../core/stages";
import { AdvanceOptions, EditPlan, HOLD_KEY, planAdvance, planRollback } from "../core/transitions";
import { lineDiff } from "./diff";
import { editStackText } from "./splice";
import { StackEditError } from "./stackEditError";
import { StackConfig, parseStackFile, readStackFile, stackConfigOf, stackFilePath } from "./stackFile";
import { writableTarget, writeFileAtomic } from "./writeStack";

export interface EditResult {
  file: string;
  stack: string;
  before: string;
  after: string;
  diff: string;
  plan: EditPlan;
  /** False for a dry run. */
  written: boolean;
}

/**
 * Plan and apply an edit to `Pulumi.<stack>.yaml` in `projectDir`. The result
 * is checked (re-parsed, validated, exactly the intended values) before it is
 * written; any failure leaves the file untouched.
 */
export function editStack(
  projectDir: string,
  stack: string,
  planFor: (cfg: RolloutConfig) => EditPlan,
  opts: { dryRun?: boolean } = {},
): EditResult {
  const sc = readStackFile(projectDir, stack);
  const { after, plan } = planStackEdit(sc, planFor);
  const file = stackFilePath(projectDir, stack);
  // Everything that can fail happens before the write: the diff, and whether the file may be written.
  const diff = lineDiff(sc.text, after, path.basename(file));
  if (!opts.dryRun) writableTarget(file);
  if (!opts.dryRun && after !== sc.text) writeFileAtomic(file, after, sc.text);
  return { file, stack, before: sc.text, after, diff, plan, written: !opts.dryRun };
}

/**
 * The edited text of a parsed stack file, checked: re-parsed, validated, and meaning exactly the
 * intended change (else StackEditError). Pure: the text-only half of `editStack`, for a caller that
 * holds the file's text rather than a checkout (the relay reads it through GitHub's contents API).
 */
export function planStackEdit(sc: StackConfig, planFor: (cfg: RolloutConfig) => EditPlan): { after: string; plan: EditPlan; cfg: RolloutConfig } {
  const stack = sc.stack;
  const cfg = stackConfigOf(sc);
  const plan = planFor(cfg);
  const after = editStackText(sc.file, sc.text, plan.changes, plan.note, plan.hold);

  // The result must still be a valid stack file meaning exactly the intended change.
  const re = parseStackFile(stack, sc.file, after);
  const reCfg = stackConfigOf(re);
  const expected = structuredClone(sc.allConfig);
  for (const ch of plan.changes) expected[`${CONFIG_NAMESPACE}:${ch.key}`] = ch.value;
  const holdKey = `${CONFIG_NAMESPACE}:${HOLD_KEY}`;
  if (plan.hold?.kind === "set") expected[holdKey] = { ...plan.hold.hold };
  if (plan.hold?.kind === "release") delete expected[holdKey];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const normalise = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === "number" || typeof v === "boolean" ? String(v) : v]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  if (!same(normalise(re.allConfig), normalise(expected)) || !isStage(reCfg.canaryPercentage) || reCfg.canaryPercentage !== plan.to.canaryPercentage ||
    reCfg.enableStatelessOrchestration !== plan.to.enableStatelessOrchestration || reCfg.enableSafeJsonParser !== plan.to.enableSafeJsonParser ||
    (plan.hold !== undefined && !same(reCfg.hold ?? null, plan.hold.kind === "set" ? plan.hold.hold : null))) {
    throw new StackEditError(`${sc.file}: the edited file would not mean exactly "${plan.summary}"; nothing written`);
  }
  return { after, plan, cfg };
}

/**
 * The edit `rollout rollback` makes (`--immediate`: both flags off), as a plan for `editStack`; the relay
 * (cli/responder.ts) makes the immediate one on the stack file's text with `planStackEdit`.
 */
export const rollbackPlan = (immediate: boolean) => (c: RolloutConfig): EditPlan => planRollback(c, immediate);

/**
 * The edit `rollout advance` makes (the next stage, or `o.to` with a forced skip's note), applied to
 * `Pulumi.<stack>.yaml` in `projectDir`; `rollout propose` makes the same one on its branch.
 */
export function editAdvance(projectDir: string, stack: string, o: AdvanceOptions, opts: { dryRun?: boolean } = {}): EditResult {
  return editStack(projectDir, stack, (c) => planAdvance(c, o), opts);
}
