/**
 * The responder relay as the program declares it (components/responder.ts, index.ts), under the SDK's
 * mock runtime: off unless configured; when on, one Swarm service whose GitHub and bearer tokens are
 * Docker secrets (0400 files at the paths `rollout responder` reads), never in its args, env, labels or
 * an output; Alertmanager gets the relay as a receiver with the bearer token as a 0400 credentials file,
 * the token in no config text; a bad responder config is refused naming the key.
 */
import { strict as assert } from "node:assert";
import { parse } from "yaml";
import { MONITORING_FILE_NAMES } from "../../core/alerts";
import { RESPONDER_SECRET_FILES } from "../../cli/rollout";
import { RESPONDER_ALIAS } from "../../components/responder";
import { EvaluatedResource, Evaluation } from "../../offline/evaluate";
import { CONTAINER, SERVICE, byType, evaluateStack, serviceInputs } from "../support/program";

const GH_TOKEN = "ghp_componentTestToken0123456789";
const ON = { "responder.enabled": "true", "responder.image": "ghcr.io/valuecanvas/rollout:1", "responder.repository": "valuecanvas/valuecanvas-rollout" };

const relayService = (ev: Evaluation): EvaluatedResource | undefined => byType(ev, SERVICE).find((r) => r.parent?.startsWith("valuecanvas:responder:Responder::"));
const alertmanager = (ev: Evaluation) => byType(ev, CONTAINER).find((r) => r.name.endsWith("-alertmanager"));

describe("responder: the relay as the program declares it (mock runtime)", function () {
  this.timeout(120_000);

  it("is off by default: no service, no responder receiver", async () => {
    const ev = await evaluateStack("dev");
    assert.equal(relayService(ev), undefined);
    const am = alertmanager(ev);
    assert.ok(am);
    assert.ok(!JSON.stringify(am.inputs.uploads).includes("responder"));
  });

  it("enabled: one Swarm service with both tokens as 0400 Docker secret files, none in args, env, labels or outputs; Alertmanager posts to it with a credentials file", async () => {
    const ev = await evaluateStack("dev", { sets: { ...ON, "responder.githubToken": GH_TOKEN } });
    const svc = relayService(ev);
    assert.ok(svc, "the relay's service");
    const spec = serviceInputs(svc).taskSpec.containerSpec;
    assert.equal(spec.image, ON["responder.image"]);
    assert.deepEqual(spec.args, ["responder", "--stack", "dev", "--repo", ON["responder.repository"], "--base", "main", "--api-url", "https://api.github.com", "--listen", "0.0.0.0:9095"]);
    assert.equal(spec.env, undefined);
    const files = (spec.secrets ?? []).map((s) => [`/run/secrets/${s.fileName}`, s.fileMode]);
    assert.deepEqual(files.sort(), [[RESPONDER_SECRET_FILES.bearerToken, 0o400], [RESPONDER_SECRET_FILES.githubToken, 0o400]]);
    const secrets = byType(ev, "docker:index/secret:Secret").filter((r) => r.parent?.startsWith("valuecanvas:responder:Responder::"));
    assert.equal(secrets.length, 2);
    for (const s of secrets) assert.ok(s.secretPaths.includes("data"), `${s.name}.data is secret`);
    const githubSecret = secrets.find((s) => s.name.endsWith("github-token"));
    assert.equal(Buffer.from(String(githubSecret?.inputs.data), "base64").toString("utf8"), GH_TOKEN);
    const bearer = Buffer.from(String(secrets.find((s) => s.name.endsWith("bearer-token"))?.inputs.data), "base64").toString("utf8");
    assert.ok(bearer.length > 0);
    const generated = byType(ev, "random:index/randomPassword:RandomPassword").find((r) => r.parent?.startsWith("valuecanvas:responder:Responder::"));
    assert.deepEqual([generated?.inputs.length, generated?.inputs.special], [48, false], "a 48-character generated token");

    const am = alertmanager(ev);
    assert.ok(am && (am.secretInputs.includes("uploads") || am.secretPaths.includes("uploads")), `alertmanager uploads secret: ${JSON.stringify([am?.secretInputs, am?.secretPaths])}`);
    const uploads = am.inputs.uploads as Array<{ file: string; content: string; permissions?: string; owner?: string }>;
    const yml = uploads.find((u) => u.file.endsWith(MONITORING_FILE_NAMES.alertmanager));
    const doc = parse(yml?.content ?? "") as { receivers: Array<{ name: string; webhook_configs?: Array<{ url: string; http_config: { authorization: { credentials_file: string } } }> }> };
    const wh = doc.receivers.find((x) => x.name === "responder")?.webhook_configs?.[0];
    assert.equal(wh?.url, `http://${RESPONDER_ALIAS}:9095/alerts`);
    const tokenFile = uploads.find((u) => u.file === wh?.http_config.authorization.credentials_file);
    assert.equal(tokenFile?.content, bearer);
    assert.equal(tokenFile?.permissions, "0400");
    assert.ok(!yml?.content.includes(bearer), "the token is not in alertmanager.yml");

    // No token in any plain input or label of any resource, nor in an output.
    for (const r of ev.resources) {
      for (const [k, v] of Object.entries(r.inputs)) {
        if (r.secretInputs.includes(k) || r.secretPaths.includes(k)) continue;
        const text = JSON.stringify(v) ?? "";
        for (const s of [GH_TOKEN, bearer]) assert.ok(!text.includes(s), `${r.name}.${k} carries a token in plain`);
      }
    }
    assert.ok(!JSON.stringify(ev.outputs).includes(GH_TOKEN) && !JSON.stringify(ev.outputs).includes(bearer));
  });

  it("a bad responder config is refused, naming the key, the value and what is allowed", async () => {
    await assert.rejects(evaluateStack("dev", { sets: { ...ON, "responder.repository": "../etc", "responder.githubToken": GH_TOKEN } }), /responder\.repository[\s\S]*owner\/name/);
    await assert.rejects(evaluateStack("dev", { sets: { "responder.enabled": "true", "responder.githubToken": GH_TOKEN } }), /responder\.image[\s\S]*required when responder\.enabled is true/);
  });
});
