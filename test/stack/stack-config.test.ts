/**
 * One home for "a stack file's validated config" (stack/stackFile.ts
 * stackConfigOf): the chain parseConfig(namespaced(programConfig(…))) was
 * written six times (CI's changed stacks and gate config, verify, plan, render,
 * the stack editor). Each former place is called here and must answer what the
 * home answers, for every stack file of the repository and for a bad one; and
 * the chain may not be written again anywhere (checked on the parsed source).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { rolloutStateOf } from "../../ci/changes";
import { gateConfigFor } from "../../ci/gateConfig";
import { stackMonitoringInputs } from "../../cli/render";
import { listStacks, loadStack, parseStackFile, readStackFile, stackConfigOf } from "../../stack/stackFile";
import { stackConfig } from "../../tools/verify";

const ROOT = path.resolve(__dirname, "../..");

function projectTs(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      if (e.name.startsWith(".") || ["node_modules", "dist", "out"].includes(e.name)) continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts")) out.set(p, fs.readFileSync(path.join(ROOT, p), "utf8"));
    }
  };
  walk("");
  return out;
}

/** Files that call parseConfig(namespaced(…programConfig(…)…)), with the line. */
function chainCalls(files: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [file, text] of files) {
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const callee = (n: ts.Node, name: string) => ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === name;
    const contains = (n: ts.Node, name: string): boolean => callee(n, name) || (ts.forEachChild(n, (c) => contains(c, name) || undefined) ?? false);
    const visit = (n: ts.Node): void => {
      if (callee(n, "parseConfig")) {
        const arg = (n as ts.CallExpression).arguments[0];
        if (arg && callee(arg, "namespaced") && contains(arg, "programConfig")) found.push(`${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return found.sort();
}

describe("a stack file's config has one home (stack/stackFile.ts stackConfigOf)", () => {
  it("the parse chain is written once, in stack/stackFile.ts", () => {
    const calls = chainCalls(projectTs());
    assert.equal(calls.length, 1, calls.join(", "));
    assert.match(calls[0], /^stack\/stackFile\.ts:/);
  });

  it("the chain finder sees the chain however it is spelled around", () => {
    const files = new Map([
      ["a.ts", "const c = parseConfig(namespaced(programConfig(readStackFile(d, s)).config), { stack: s });\n"],
      ["b.ts", "export const f = (sc: X) =>\n  parseConfig(\n    namespaced(programConfig(sc).config),\n  );\n"],
      ["c.ts", "const c = parseConfig(namespaced(pulumi.runtime.allConfig()), { stack });\n// parseConfig(namespaced(programConfig(x)))\n"],
    ]);
    assert.deepEqual(chainCalls(files), ["a.ts:1", "b.ts:2"]);
  });

  for (const stack of listStacks(ROOT)) {
    it(`every former place reads Pulumi.${stack}.yaml as the home does`, () => {
      const sc = readStackFile(ROOT, stack);
      const home = stackConfigOf(sc);
      const text = fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
      assert.deepEqual(stackConfig(ROOT, stack), home, "npm run verify (tools/verify.ts stackConfig)");
      assert.deepEqual(loadStack(ROOT, stack).cfg, home, "the rollout CLI (stack/stackEdit.ts loadStack)");
      assert.deepEqual(stackMonitoringInputs(stack, ROOT).config, home, "npm run render (cli/render.ts)");
      assert.deepEqual(
        rolloutStateOf(stack, `Pulumi.${stack}.yaml`, text),
        { canaryPercentage: home.canaryPercentage, enableStatelessOrchestration: home.enableStatelessOrchestration, enableSafeJsonParser: home.enableSafeJsonParser },
        "CI changed stacks (ci/changes.ts rolloutStateOf)",
      );
      const gate = gateConfigFor(stack, text, text);
      assert.equal(gate.source, "base", "CI gate config (ci/gateConfig.ts) read the base");
      assert.deepEqual(stackConfigOf(parseStackFile(stack, `Pulumi.${stack}.yaml`, gate.text)).gate, home.gate);
    });
  }

  it("a bad value is refused with the same message by every former place", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-config-"));
    try {
      const text = fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8").replace(/(valuecanvas:canaryPercentage:\s*)"?\d+"?/, '$1"33"');
      assert.ok(text.includes('"33"'), "the fixture set a percentage outside the stages");
      fs.writeFileSync(path.join(dir, "Pulumi.staging.yaml"), text);
      fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
      const message = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          return (e as Error).message;
        }
        assert.fail("no error");
      };
      const home = message(() => stackConfigOf(readStackFile(dir, "staging")));
      assert.match(home, /canaryPercentage/);
      assert.match(home, /33/);
      assert.equal(message(() => stackConfig(dir, "staging")), home);
      assert.equal(message(() => loadStack(dir, "staging")), home);
      assert.equal(message(() => stackMonitoringInputs("staging", dir)), home);
      assert.equal(message(() => rolloutStateOf("staging", "Pulumi.staging.yaml", text)), home);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
