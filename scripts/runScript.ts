/** The common entry point of the scripts the workflows call: parse, and report an error in one line. */
import { Command } from "commander";

export function runScript(name: string, cli: Command): void {
  try {
    cli.parse(process.argv);
  } catch (e) {
    process.stderr.write(`${name}: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
