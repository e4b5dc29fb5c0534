/**
 * The app's settings as an ordered command line instead of a task env (issue 22
 * fact 2). Pure: no I/O.
 *
 * The docker provider builds a service's `ContainerSpec.Env` from a Go map,
 * whose order is random: every update sends a new permutation, Swarm sees a
 * new task template and restarts every task, even for a replica or label
 * change. `args` is a list, sent in order, so the task template is the same
 * until a setting changes. `/usr/bin/env NAME=VALUE … <command>` sets exactly
 * the guide's env names in the app's environment, then execs the app's
 * command (which stays PID 1: `env` replaces itself). No secret goes here: the
 * app reads its secrets from files (core/swarm.ts APP_SECRET_FILES).
 */

/** The program that sets the settings and execs the app (coreutils' env; every Debian-based image has it). */
export const ENV_PROGRAM = "/usr/bin/env";

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `[ENV_PROGRAM, "A=1", "B=2", …command]`, the settings sorted by name so that the same settings give the same list. */
export function envCommand(settings: Readonly<Record<string, string>>, command: readonly string[]): string[] {
  if (command.length === 0 || !command[0].startsWith("/")) throw new Error(`app command ${JSON.stringify(command)}: expected an absolute path first`);
  if (command[0].includes("=")) throw new Error(`app command ${JSON.stringify(command[0])}: env would read a word with "=" as a setting`);
  const names = Object.keys(settings).sort();
  for (const n of names) if (!NAME_RE.test(n)) throw new Error(`env name ${JSON.stringify(n)}: expected letters, digits and _, not starting with a digit`);
  return [ENV_PROGRAM, ...names.map((n) => `${n}=${settings[n]}`), ...command];
}

/** The settings and the command back from an envCommand list (undefined when `args` is not one). */
export function parseEnvCommand(args: readonly string[] | undefined): { settings: Record<string, string>; command: string[] } | undefined {
  if (!args || args[0] !== ENV_PROGRAM) return undefined;
  const settings: Record<string, string> = {};
  let i = 1;
  for (; i < args.length; i++) {
    const eq = args[i].indexOf("=");
    if (eq <= 0 || !NAME_RE.test(args[i].slice(0, eq))) break;
    settings[args[i].slice(0, eq)] = args[i].slice(eq + 1);
  }
  return { settings, command: args.slice(i) };
}
