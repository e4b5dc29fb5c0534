/**
 * `npm run plan -- --stack <name> [--set key=value ...] [--json]`
 *
 * Evaluates the program offline under the Pulumi SDK's mock runtime with a
 * stack file and prints every resource it declares; with --set, only what that
 * config change alters. Exit codes: 0 ok, 1 invalid stack file or config,
 * 2 bad arguments.
 */
import { Command, CommanderError } from "commander";
import { parseErrorExitCode, strictCli } from "./convention";
import { exitWithMain } from "./runScript";
import { ConfigError, configWarnings } from "../core/config";
import { ProgramError, evaluateProgram } from "../offline/evaluate";
import {
  ConfigSet,
  SetArgumentError,
  applySets,
  diffEvaluations,
  formatChanges,
  formatResources,
  maskedOutputs,
  parseSet,
  plannedResources,
  shownSets,
} from "../offline/plan";
import { StackConfig, programConfig, readStackFile, stackConfigOf } from "../stack/stackFile";
import { StackFileError } from "../stack/stackFileError";
import { PROJECT_DIR } from "../program/projectDir";


export interface PlanOptions {
  stack: string;
  set: ConfigSet[];
  json: boolean;
  projectDir?: string;
}


/**
 * The program words its config warnings for the state alone (it does not know the state before);
 * with --set, plan knows it: the same warnings, worded for the change from the stack file's state.
 */
function fromState(programWarnings: string[], before: StackConfig, after: StackConfig): string[] {
  const cfg = stackConfigOf(after);
  const alone = configWarnings(cfg);
  const worded = configWarnings(cfg, stackConfigOf(before));
  return programWarnings.map((w) => {
    const i = alone.indexOf(w);
    return i >= 0 && i < worded.length ? worded[i] : w;
  });
}

async function evaluate(sc: StackConfig) {
  const { config, secretKeys } = programConfig(sc);
  return evaluateProgram({ stack: sc.stack, config, secretKeys });
}

/** Run the plan; returns the text to print. Throws StackFileError / ConfigError / SetArgumentError. */
export async function plan(opts: PlanOptions): Promise<string> {
  const sc = readStackFile(opts.projectDir ?? PROJECT_DIR, opts.stack);
  const base = await evaluate(sc);
  const header = { stack: sc.stack, file: sc.file, secrets: sc.secrets, warnings: base.warnings };
  if (opts.set.length === 0) {
    const resources = plannedResources(base);
    const outputs = maskedOutputs(base);
    return opts.json
      ? JSON.stringify({ stack: sc.stack, secrets: sc.secrets, warnings: base.warnings, resources, outputs }, null, 2) + "\n"
      : formatResources(header, resources, outputs);
  }
  const after = { ...sc, raw: applySets(sc.raw, opts.set) };
  const changed = await evaluate(after);
  const changes = diffEvaluations(base, changed);
  const warnings = fromState(changed.warnings, sc, after);
  const h = { ...header, warnings };
  return opts.json
    ? JSON.stringify({ stack: sc.stack, set: shownSets(opts.set), warnings, changes }, null, 2) + "\n"
    : formatChanges(h, opts.set, changes);
}

export function createPlanCli(): Command {
  return new Command("plan")
    .description("Show every resource a stack declares, evaluated offline (no Pulumi CLI, engine or credentials)")
    .requiredOption("--stack <name>", "stack name: reads Pulumi.<name>.yaml")
    .option("--set <key=value>", "show only what this config change alters (repeatable)", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("--json", "machine-readable output", false)
    .showHelpAfterError()
    .action(() => undefined); // options are read after parse; the action lets cli/convention.ts check required ones after unknown ones
}

/** The command line: returns the exit code; prints to stdout/stderr. */
export async function main(argv: string[], io: { err(s: string): void; out?(s: string): void } = { err: (s) => process.stderr.write(s) }): Promise<number> {
  const cli = strictCli(createPlanCli().exitOverride().configureOutput({ writeErr: io.err, ...(io.out ? { writeOut: io.out } : {}) }));
  try {
    cli.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) return parseErrorExitCode(err);
    throw err;
  }
  const o = cli.opts<{ stack: string; set: string[]; json: boolean }>();
  try {
    const sets = o.set.map(parseSet);
    process.stdout.write(await plan({ stack: o.stack, set: sets, json: o.json }));
    return 0;
  } catch (err) {
    if (err instanceof SetArgumentError) {
      process.stderr.write(`plan: ${err.message}\n`);
      return 2;
    }
    if (err instanceof StackFileError || err instanceof ConfigError || err instanceof ProgramError) {
      process.stderr.write(`plan: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) void exitWithMain("plan", () => main(process.argv), "stack");
