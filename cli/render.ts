/**
 * `npm run render -- --stack <name> --out <dir>`
 *
 * Writes the monitoring files a stack deploys (exporter queries, prometheus.yml,
 * the rule file, alertmanager.yml) so that people and tools (promtool, amtool)
 * can read exactly what will run. Secrets are written as placeholders; a secret
 * the stack has not set is left out, as the program leaves it out.
 *
 * Beside them, the stack's Grafana dashboard (GRAFANA_DASHBOARD_FILE, issue 24):
 * Grafana is not part of what the program deploys, so the dashboard is not one
 * of renderMonitoringFiles' files; it is written here only, for people to import
 * into their own Grafana (docs/alerts.md, "The Grafana dashboard"). Its module
 * is imported here and nowhere in the program, so `pulumi up` never loads the
 * Grafana SDK.
 *
 * Nothing is written unless every file rendered: the files are written to a
 * temporary directory next to the output and moved into place.
 * Exit codes: 0 ok, 1 invalid stack file or config, 2 bad arguments.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError } from "commander";
import { parseErrorExitCode, strictCli } from "./convention";
import { AlertReceiverSecrets, MonitoringFiles, SECRET_PLACEHOLDERS, renderMonitoringFiles } from "../core/alerts";
import { GRAFANA_DASHBOARD_FILE, renderGrafanaDashboard } from "../core/alerts/grafanaDashboard";
import { ConfigError } from "../core/config";
import { CONFIG_NAMESPACE, RolloutConfig } from "../core/configSchema";
import { readStackFile, stackConfigOf } from "../stack/stackFile";
import { StackFileError } from "../stack/stackFileError";
import { PROJECT_DIR } from "../program/projectDir";


export class RenderArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderArgumentError";
  }
}

export interface RenderOptions {
  stack: string;
  out: string;
  projectDir?: string;
}

export interface RenderResult {
  stack: string;
  out: string;
  files: string[];
  /** Notes for people, e.g. a receiver secret the stack has not set. */
  warnings: string[];
}

/** The stack's parsed config and the placeholder secrets `render` uses. */
export function stackMonitoringInputs(stack: string, projectDir = PROJECT_DIR): {
  config: RolloutConfig;
  secrets: AlertReceiverSecrets;
  warnings: string[];
} {
  const sc = readStackFile(projectDir, stack);
  const config = stackConfigOf(sc);
  const secrets: AlertReceiverSecrets = {};
  const warnings: string[] = [];
  for (const key of ["pagerdutyRoutingKey", "slackWebhookUrl"] as const) {
    const status = sc.secrets.find((s) => s.key === key);
    if (status?.source === "secure") {
      secrets[key] = SECRET_PLACEHOLDERS[key];
    } else {
      warnings.push(
        `${CONFIG_NAMESPACE}:${key} is not set in ${sc.file}: ${key === "pagerdutyRoutingKey" ? "critical alerts" : "warnings"} reach no one ` +
          `until it is set (pulumi config set --secret --stack ${stack} ${key} <value>). The file shows a placeholder receiver only where it is set.`,
      );
    }
  }
  return { config, secrets, warnings };
}

function checkOut(out: string): string {
  if (!out.trim()) throw new RenderArgumentError(`--out: expected a directory path, got an empty string`);
  const abs = path.resolve(out);
  const st = fs.statSync(abs, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new RenderArgumentError(`--out: "${out}" is not a directory; expected a directory to write the monitoring files into (created if missing)`);
  const parent = path.dirname(abs);
  const pst = fs.statSync(parent, { throwIfNoEntry: false });
  if (!st && !pst?.isDirectory()) throw new RenderArgumentError(`--out: the parent directory "${parent}" does not exist; expected a path whose parent exists`);
  return abs;
}

/** Render and write; throws StackFileError / ConfigError / RenderArgumentError before writing anything. */
export function render(opts: RenderOptions): RenderResult {
  const out = checkOut(opts.out);
  const { config, secrets, warnings } = stackMonitoringInputs(opts.stack, opts.projectDir);
  const monitoring: MonitoringFiles = renderMonitoringFiles(config, secrets, { stack: opts.stack });
  const files: Record<string, string> = { ...monitoring, [GRAFANA_DASHBOARD_FILE]: renderGrafanaDashboard(config, { stack: opts.stack }) };

  // Write everything to a temporary directory beside the output, then move into place.
  const tmp = fs.mkdtempSync(path.join(path.dirname(out), `.${path.basename(out)}.render-`));
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), text, { mode: 0o644 });
    if (!fs.existsSync(out)) {
      fs.chmodSync(tmp, 0o755);
      fs.renameSync(tmp, out);
    } else {
      for (const name of Object.keys(files)) fs.renameSync(path.join(tmp, name), path.join(out, name));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { stack: opts.stack, out, files: Object.keys(files), warnings };
}

export function createRenderCli(): Command {
  return new Command("render")
    .description("Write the monitoring files a stack deploys (exporter queries, Prometheus config and rules, Alertmanager config), secrets as placeholders, and its Grafana dashboard")
    .requiredOption("--stack <name>", "stack name: reads Pulumi.<name>.yaml")
    .requiredOption("--out <dir>", "directory to write the files into (created if missing)")
    .showHelpAfterError()
    .action(() => undefined); // options are read after parse; the action lets cli/convention.ts check required ones after unknown ones
}

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

const stdio: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** The command line: returns the exit code. */
export function main(argv: string[], io: Io = stdio): number {
  const cli = strictCli(createRenderCli().exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err }));
  try {
    cli.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) return parseErrorExitCode(err);
    throw err;
  }
  const o = cli.opts<{ stack: string; out: string }>();
  try {
    const r = render({ stack: o.stack, out: o.out });
    for (const w of r.warnings) io.err(`render: warning: ${w}\n`);
    io.out(`Rendered the monitoring files of stack "${r.stack}" into ${path.relative(process.cwd(), r.out) || "."}:\n`);
    for (const f of r.files) io.out(`  ${f}\n`);
    io.out(`Check them with: promtool check config prometheus.yml; amtool check-config alertmanager.yml\n`);
    io.out(`Import ${GRAFANA_DASHBOARD_FILE} into Grafana (Dashboards > New > Import), then pick the stack's Prometheus as its data source (docs/alerts.md)\n`);
    return 0;
  } catch (err) {
    if (err instanceof RenderArgumentError) {
      io.err(`render: ${err.message}\n`);
      return 2;
    }
    if (err instanceof StackFileError || err instanceof ConfigError) {
      io.err(`render: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv);
  } catch (err) {
    process.stderr.write(`render: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  }
}
