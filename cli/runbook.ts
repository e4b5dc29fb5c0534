/**
 * npm run docs:runbook [-- --check]: regenerate the criteria block of
 * docs/RUNBOOK.md from core/stages.ts (see tools/runbook.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { renderRunbook } from "../tools/runbook";
import { runScript } from "./runScript";
import { PROJECT_DIR } from "../program/projectDir";

const FILE = path.join(PROJECT_DIR, "docs", "RUNBOOK.md");

export function createRunbookCli(): Command {
  return new Command("docs:runbook")
    .description("Regenerate the criteria block of docs/RUNBOOK.md from core/stages.ts")
    .option("--check", "exit 1 when the block is out of date, without writing")
    .option("--file <path>", "the runbook", FILE)
    .action((o: { check?: boolean; file: string }) => {
      try {
        const text = fs.readFileSync(o.file, "utf8");
        const next = renderRunbook(text);
        if (o.check) {
          if (next !== text) {
            process.stderr.write(`${o.file}: the criteria block is out of date; run npm run docs:runbook\n`);
            process.exitCode = 1;
          }
          return;
        }
        if (next !== text) fs.writeFileSync(o.file, next);
        process.stdout.write(`${o.file}: ${next === text ? "up to date" : "criteria block rewritten"}\n`);
      } catch (e) {
        process.stderr.write(`docs:runbook: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

if (require.main === module) runScript("docs:runbook", createRunbookCli());
