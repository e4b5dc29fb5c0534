/**
 * The offline plan masks secrets at the leaf (issue 15): a secret nested in a
 * plain input (the app service's env inside `taskSpec`) is masked where it is,
 * and a plain change beside it (the image) is shown, path by path. No secret
 * value ever reaches the rendered plan, text or JSON.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { plan } from "../../cli/plan";
import { SECRET_KEYS } from "../../core/configSchema";
import { SECRET_MASK, diffEvaluations, formatChanges, formatResources, maskedInputs, maskedOutputs, plannedResources } from "../../offline/plan";
import { secretPlaceholder } from "../../stack/stackFile";
import type { EvaluatedResource, Evaluation } from "../../offline/evaluate";
import { evaluateStack } from "../support/program";

/** Every value under `r`'s secret paths, as strings (the whole value and each string inside it). */
function secretStrings(r: EvaluatedResource): string[] {
  const out: string[] = [];
  const walk = (v: unknown, at: string, inSecret: boolean) => {
    const secret = inSecret || r.secretPaths.includes(at);
    if (typeof v === "string") {
      if (secret) out.push(v);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}.${i}`, secret));
    else if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`, secret);
  };
  for (const [k, v] of Object.entries(r.inputs)) walk(v, k, false);
  return out;
}

/** The secrets of a stack, found independently of the masking: config placeholders and generated passwords, and every secret string that carries one. */
function stackSecrets(ev: Evaluation): string[] {
  const roots = [
    ...SECRET_KEYS.map((k) => secretPlaceholder(`valuecanvas:${k}`)),
    ...ev.resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword").map((r) => `mock-${r.name}`),
  ];
  const carriers = ev.resources.flatMap(secretStrings).filter((s) => roots.some((root) => s.includes(root)));
  return [...new Set([...roots, ...carriers])];
}

describe("the offline plan masks secrets at the leaf", function () {
  this.timeout(180_000);

  // dev: a generated password in DATABASE_URL; prod: the config's secret placeholders.
  for (const stack of ["dev", "prod"]) {
    it(`${stack}: an image change beside the secret env shows as taskSpec.containerSpec.image; no secret appears in the rendered plan`, async () => {
      const image = "ghcr.io/valuecanvas/app@sha256:" + "ab".repeat(32);
      const before = await evaluateStack(stack);
      const after = await evaluateStack(stack, { sets: { appImage: image } });
      const secrets = [...new Set([...stackSecrets(before), ...stackSecrets(after)])];
      assert.ok(secrets.some((s) => s.startsWith("postgres")), "the app's DATABASE_URL is among the secrets checked");

      const h = { stack, file: `Pulumi.${stack}.yaml`, secrets: [], warnings: [] };
      const text = await plan({ stack, set: [{ path: "appImage", value: image }], json: false });
      const json = JSON.stringify(diffEvaluations(before, after));
      const listing = formatResources(h, plannedResources(before), maskedOutputs(before));
      const listingJson = JSON.stringify(plannedResources(after));
      assert.match(text, new RegExp(`taskSpec\\.containerSpec\\.image: "[^"]+" => "${image.replace(/[.]/g, "\\.")}"`));
      // Issue 21 finding 5: the URL is a Docker secret, so the service's taskSpec is plain and the secret's data is masked.
      assert.match(listing, /taskSpec: \{"containerSpec":\{/, "the listing shows taskSpec");
      assert.match(listing, /\+ docker:index\/secret:Secret [^\n]*\n(?: {4}[^\n]*\n)*? {4}data: "\[secret\]"/, "the listing masks the Docker secret's data");
      for (const out of [text, json, listing, listingJson]) {
        for (const s of secrets) assert.ok(!out.includes(s), `secret ${JSON.stringify(s.slice(0, 12))}… is not printed`);
      }
      // The diff itself, before rendering: the image is plain, the env not in it.
      const svc = diffEvaluations(before, after).find((c) => c.type === "docker:index/service:Service");
      assert.deepEqual(svc?.changes.map((c) => [c.input, c.secret]), [["taskSpec.containerSpec.image", false]]);
    });
  }

  // The whole class: any tree of inputs, any secret placement, any mix of changes.
  const key = fc.constantFrom("a", "b", "c", "env", "spec", "x.y");
  const leaf = fc.oneof(fc.constantFrom("plain", "true", "3000"), fc.integer({ min: 0, max: 9 }));
  const tree = fc.letrec<{ node: unknown }>((t) => ({
    node: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, fc.array(t("node"), { maxLength: 3 }), fc.dictionary(key, t("node"), { maxKeys: 3 })),
  })).node;

  /** Every path in `v` (objects by key, arrays by index). */
  function paths(v: unknown, at: string, out: string[] = []): string[] {
    out.push(at);
    if (Array.isArray(v)) v.forEach((x, i) => paths(x, `${at}.${i}`, out));
    else if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) paths(x, `${at}.${k}`, out);
    return out;
  }
  /** `v` with the value at `path` replaced. */
  function setAt(v: unknown, at: string, path: string, value: unknown): unknown {
    if (at === path) return value;
    if (Array.isArray(v)) return v.map((x, i) => setAt(x, `${at}.${i}`, path, value));
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, setAt(x, `${at}.${k}`, path, value)]));
    return v;
  }
  const evaluation = (inputs: Record<string, unknown>, secretPaths: string[]): Evaluation => ({
    stack: "s",
    resources: [{ type: "t:index/x:X", name: "r", custom: true, inputs, secretInputs: [...new Set(secretPaths.map((p) => p.split(".")[0]))], secretPaths, options: { dependsOn: [] } }],
    outputs: {},
    secretOutputs: [],
    warnings: [],
  });

  it("property: for any inputs, secret placement and changes, no secret value is rendered and every plain change is shown", () => {
    fc.assert(
      fc.property(tree, fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 3 }), (t, secretPicks, plainPicks) => {
        const root = { top: t, other: "plain" };
        const all = Object.keys(root).flatMap((k) => paths(root[k as keyof typeof root], k));
        // Secret paths: each holds a unique token before, another after (a changed secret).
        const secretPaths = [...new Set(secretPicks.map((n) => all[n % all.length]))].filter((p, _, xs) => !xs.some((q) => q !== p && p.startsWith(`${q}.`)));
        let before: Record<string, unknown> = root;
        let after: Record<string, unknown> = root;
        const tokens: string[] = [];
        secretPaths.forEach((p, i) => {
          const [tb, ta] = [`SECRET-${i}-before-${p}`, `SECRET-${i}-after-${p}`];
          tokens.push(tb, ta);
          before = Object.fromEntries(Object.entries(before).map(([k, v]) => [k, setAt(v, k, p, tb)]));
          after = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, setAt(v, k, p, ta)]));
        });
        // Plain changes at paths outside every secret.
        const outside = paths(after.top, "top").filter((p) => !secretPaths.some((s) => p === s || p.startsWith(`${s}.`) || s.startsWith(`${p}.`)));
        const changed: string[] = [];
        for (const n of plainPicks) {
          if (outside.length === 0) break;
          const p = outside[n % outside.length];
          // Changes that do not overlap: a later change of a parent would erase an earlier one.
          if (changed.some((q) => q === p || q.startsWith(`${p}.`) || p.startsWith(`${q}.`))) continue;
          after = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, setAt(v, k, p, `CHANGED-${p}`)]));
          changed.push(p);
        }
        const a = evaluation(before, secretPaths);
        const b = evaluation(after, secretPaths);
        const changes = diffEvaluations(a, b);
        const h = { stack: "s", file: "Pulumi.s.yaml", secrets: [], warnings: [] };
        const rendered = [
          formatChanges(h, [], changes),
          JSON.stringify(changes),
          formatResources(h, plannedResources(a), {}),
          JSON.stringify(plannedResources(b)),
          JSON.stringify(maskedInputs(b.resources[0])),
        ].join("\n");
        for (const tok of tokens) assert.ok(!rendered.includes(tok), `${tok} rendered:\n${rendered}`);
        for (const p of changed) assert.ok(rendered.includes(`CHANGED-${p}`), `plain change at ${p} shown:\n${rendered}`);
        if (secretPaths.length > 0) assert.ok(rendered.includes(SECRET_MASK));
      }),
      { numRuns: 300, seed: 15 },
    );
  });
});
