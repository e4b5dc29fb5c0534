/**
 * One convention for every command line of the project (bin/*.ts, cli/*.ts): a
 * misspelt option is reported, with commander's did-you-mean suggestion, before a
 * missing required one. Commander checks required options first, so
 * `rollout status --stak prod` would only say "required option '--stack <name>' not
 * specified" and never point at the typo.
 *
 * `strictCli(root)` (call it once every option and subcommand is defined) keeps each
 * required option's place in the help but moves its check into a `preAction` hook,
 * which commander runs after its unknown-option and argument checks. Every leaf
 * command therefore needs an action handler (commander runs no hook without one).
 * Pure: it configures a Command object; nothing is read or printed here.
 */
import { Command, CommanderError, Option } from "commander";

/** Exit code of a usage error (unknown command or option, missing or bad argument), as `rollout` documents it. */
export const USAGE_EXIT = 2;

const required = new WeakMap<Command, Option[]>();

function deferRequired(cmd: Command): void {
  const mine = cmd.options.filter((o) => o.mandatory);
  for (const o of mine) o.mandatory = false;
  required.set(cmd, [...(required.get(cmd) ?? []), ...mine]);
  for (const sub of cmd.commands) deferRequired(sub);
}

/** The command and its ancestors, leaf first. */
function lineage(cmd: Command): Command[] {
  const out: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) out.push(c);
  return out;
}

export function strictCli<C extends Command>(root: C): C {
  if (required.has(root)) return root;
  deferRequired(root);
  root.hook("preAction", (_hooked, action) => {
    for (const cmd of lineage(action)) {
      for (const o of required.get(cmd) ?? []) {
        if (cmd.getOptionValue(o.attributeName()) === undefined) {
          action.error(`error: required option '${o.flags}' not specified`, { code: "commander.missingMandatoryOptionValue", exitCode: 1 });
        }
      }
    }
  });
  return root;
}

/** The exit code for an error thrown by parsing: 0 for --help / --version, USAGE_EXIT for any other commander error. */
export function parseErrorExitCode(err: CommanderError): number {
  return err.exitCode === 0 ? 0 : USAGE_EXIT;
}
