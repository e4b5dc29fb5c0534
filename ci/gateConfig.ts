/**
 * Which stack config the pull-request gate judges with. A pull request must
 * not be able to loosen its own gate: the one that raises `canaryPercentage`
 * could also lower `gate.soakHours` or raise a threshold and pass. So the gate
 * reads the base branch's `Pulumi.<stack>.yaml` (its `thresholds` and `gate`
 * groups, and the stage the base says is deployed), while the raise itself is
 * still decided on the head (ci/changes.ts `canaryChange`).
 *
 * When the base has no usable file (the stack is new in this pull request, or
 * the base file does not parse), the head's file is used with its `thresholds`
 * and `gate` groups removed, so the schema's defaults (the guide's numbers)
 * apply. A change to those groups takes effect once it is merged, for the
 * next stage.
 *
 * `gateConfigFor` is pure; `writeGateProjectDir` reads git (./git) and writes
 * the chosen file into a folder for `rollout gate --project-dir`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isMap, isScalar, parseDocument } from "yaml";
import { CONFIG_NAMESPACE, GateConfig, RolloutConfig, ThresholdsConfig } from "../core/configSchema";
import { parseStackFile, stackConfigOf, stackFilePath } from "../stack/stackFile";
import { StackFileError } from "../stack/stackFileError";
import { fileAt, resolveCommit } from "./git";

/** The config groups that decide the gate's verdict: never taken from the pull request itself. */
export const GATE_GROUPS = ["thresholds", "gate"] as const;
export type GateGroup = (typeof GATE_GROUPS)[number];

export interface GateConfigChoice {
  stack: string;
  /** "base": the base branch's stack file as is; "defaults": the head's file without the gate groups. */
  source: "base" | "defaults";
  /** The stack file text to judge with. */
  text: string;
  /** The gate groups this pull request changes (compared with the base; all it sets when there is no base). */
  changedGroups: GateGroup[];
  /** One sentence for the pull-request comment. */
  note: string;
}

function parsed(stack: string, file: string, text: string): RolloutConfig {
  return stackConfigOf(parseStackFile(stack, file, text));
}

function groupsOf(cfg: RolloutConfig): { thresholds: ThresholdsConfig; gate: GateConfig } {
  return { thresholds: cfg.thresholds, gate: cfg.gate };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The stack file text without the gate groups (`valuecanvas:thresholds`,
 * `valuecanvas:gate`, and any flat `valuecanvas:gate.<key>` spelling). Comments
 * and every other key are kept.
 */
export function withoutGateGroups(file: string, text: string): string {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new StackFileError(`${file} is not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
  const cfg = doc.get("config", true);
  if (!isMap(cfg)) return text;
  const doomed = (key: string) =>
    GATE_GROUPS.some((g) => key === `${CONFIG_NAMESPACE}:${g}` || key.startsWith(`${CONFIG_NAMESPACE}:${g}.`));
  cfg.items = cfg.items.filter((pair) => {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    return !doomed(key);
  });
  return doc.toString();
}

/**
 * Choose the stack file the gate judges a pull request with. `baseText`
 * undefined: the file does not exist at the base. Throws the schema's error
 * when the head's file does not parse (changed-stacks already fails on that).
 */
export function gateConfigFor(stack: string, baseText: string | undefined, headText: string, baseLabel = "the base branch"): GateConfigChoice {
  const file = path.basename(stackFilePath(".", stack));
  const head = parsed(stack, file, headText);
  let base: RolloutConfig | undefined;
  let baseProblem: string | undefined;
  if (baseText !== undefined) {
    try {
      base = parsed(stack, file, baseText);
    } catch (e) {
      baseProblem = (e as Error).message.replace(/\s*\n\s*(?:- )?/g, " ").slice(0, 300);
    }
  }
  const headGroups = groupsOf(head);
  if (base !== undefined && baseText !== undefined) {
    const baseGroups = groupsOf(base);
    const changedGroups = GATE_GROUPS.filter((g) => !sameJson(baseGroups[g], headGroups[g]));
    const changed = changedGroups.length
      ? ` This pull request changes ${changedGroups.map((g) => `\`${g}\``).join(" and ")}: that takes effect only after it merges.`
      : "";
    return {
      stack,
      source: "base",
      text: baseText,
      changedGroups,
      note: `Thresholds and gate settings are judged from ${baseLabel}'s ${file}, not this pull request's.${changed}`,
    };
  }
  const stripped = withoutGateGroups(file, headText);
  const defaults = groupsOf(parsed(stack, file, stripped));
  const changedGroups = GATE_GROUPS.filter((g) => !sameJson(defaults[g], headGroups[g]));
  const why = baseText === undefined ? `${file} is new in this pull request` : `${file} does not parse at ${baseLabel} (${baseProblem})`;
  return {
    stack,
    source: "defaults",
    text: stripped,
    changedGroups,
    note:
      `${why}: judged with the default thresholds and gate settings (the guide's)` +
      (changedGroups.length ? `; this pull request's ${changedGroups.map((g) => `\`${g}\``).join(" and ")} take effect only after it merges.` : "."),
  };
}

/**
 * Write the stack file the gate judges with into `outDir` (created), as
 * `Pulumi.<stack>.yaml`, for `rollout gate --project-dir <outDir>`. `base` is
 * the base branch's commit (the pull request's `base.sha`), `head` its head.
 */
export function writeGateProjectDir(repoDir: string, base: string, head: string, stack: string, outDir: string): GateConfigChoice {
  const file = path.basename(stackFilePath(".", stack));
  const baseSha = resolveCommit(repoDir, base);
  const headText = fileAt(repoDir, resolveCommit(repoDir, head), file);
  if (headText === undefined) throw new StackFileError(`${file} does not exist at ${head}: no stack "${stack}" to gate`);
  const choice = gateConfigFor(stack, fileAt(repoDir, baseSha, file), headText, `the base branch (${baseSha.slice(0, 12)})`);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(stackFilePath(outDir, stack), choice.text);
  return choice;
}
