/**
 * Issue 13 §3 item 4: plan asks only for the secrets the stack's config uses. dev sets no
 * `valuecanvas:database` (it runs its own PostgreSQL), so it is never asked for database.adminPassword.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { formatResources } from "../../offline/plan";
import { listStacks, parseStackFile, readStackFile } from "../../stack/stackFile";

const ROOT = path.join(__dirname, "..", "..");

function askedFor(text: string): string[] {
  const line = text.split("\n").find((l) => l.startsWith("Secrets not in the stack file"));
  return line ? line.slice(line.lastIndexOf(": ") + 2).split(", ") : [];
}

function header(stack: string, text: string): string {
  const sc = parseStackFile(stack, `Pulumi.${stack}.yaml`, text);
  return formatResources({ stack, file: sc.file, secrets: sc.secrets, warnings: [] }, [], {});
}

describe("plan asks only for the secrets a stack uses (issue 13 §3 item 4)", () => {
  it("dev (no valuecanvas:database) is not asked for database.adminPassword, but is for the top-level secrets", () => {
    const sc = readStackFile(ROOT, "dev");
    const asked = askedFor(formatResources({ stack: "dev", file: sc.file, secrets: sc.secrets, warnings: [] }, [], {}));
    assert.ok(!asked.includes("database.adminPassword"), asked.join(", "));
    assert.deepEqual(asked, ["pagerdutyRoutingKey", "slackWebhookUrl"]);
  });

  it("every stack of the repository: asked for a group's secret exactly when it sets that group", () => {
    for (const stack of listStacks(ROOT)) {
      const sc = readStackFile(ROOT, stack);
      const asked = askedFor(formatResources({ stack, file: sc.file, secrets: sc.secrets, warnings: [] }, [], {}));
      const hasDatabase = sc.raw.database !== undefined;
      const passwordUnset = sc.secrets.find((s) => s.key === "database.adminPassword")!.source === "unset";
      assert.equal(asked.includes("database.adminPassword"), hasDatabase && passwordUnset, stack);
    }
  });

  it("a stack that sets valuecanvas:database without its password is asked for it", () => {
    const text = "config:\n  valuecanvas:appImage: ghcr.io/valuecanvas/app:phase3\n  valuecanvas:database:\n    host: db.example.internal\n";
    assert.deepEqual(askedFor(header("qa", text)), ["database.adminPassword", "pagerdutyRoutingKey", "slackWebhookUrl"]);
    const none = "config:\n  valuecanvas:appImage: ghcr.io/valuecanvas/app:phase3\n";
    assert.deepEqual(askedFor(header("qa", none)), ["pagerdutyRoutingKey", "slackWebhookUrl"]);
  });
});
