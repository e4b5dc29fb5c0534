import { strict as assert } from "node:assert";
import { LEGACY_PROFILE, NEW_PROFILE, generateTraffic, onNewPath, seededRandom, userBucket } from "../../drill/traffic";
import { STAGES } from "../../core/stages";

const users = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
const spec = (pct: number, seed = 7) => ({
  rng: seededRandom(seed),
  users,
  sessions: 20_000,
  start: new Date("2026-01-01T00:00:00Z"),
  end: new Date("2026-01-03T00:00:00Z"),
  effectivePct: pct,
  legacy: LEGACY_PROFILE,
  new: NEW_PROFILE,
  sessionPrefix: "t",
});

describe("simulated traffic (drill)", () => {
  it("buckets users stickily: a user's path depends only on the user and the percentage", () => {
    for (const u of users.slice(0, 200)) {
      assert.equal(userBucket(u), userBucket(u));
      assert.ok(userBucket(u) >= 0 && userBucket(u) < 100);
      // Monotone: once on the new path at p %, a user stays on it at every higher stage.
      const firstOn = STAGES.find((s) => onNewPath(u, s));
      for (const s of STAGES) assert.equal(onNewPath(u, s), firstOn !== undefined && s >= firstOn, `${u} at ${s}%`);
    }
    const rows = generateTraffic(spec(25));
    const pathOf = new Map<string, string>();
    for (const r of rows) {
      const p = JSON.parse(r.metadata).useStateless === "true" ? "new" : "legacy";
      assert.equal(pathOf.get(r.user_id) ?? p, p, `${r.user_id} stays on one path`);
      pathOf.set(r.user_id, p);
    }
    const share = [...pathOf.values()].filter((p) => p === "new").length / pathOf.size;
    assert.ok(Math.abs(share - 0.25) < 0.04, `share of users on the new path: ${share}`);
  });

  it("is deterministic for a seed and stays inside the window", () => {
    const a = generateTraffic(spec(50, 1));
    const b = generateTraffic(spec(50, 1));
    assert.deepEqual(a, b);
    assert.notDeepEqual(generateTraffic(spec(50, 2)).slice(0, 5), a.slice(0, 5));
    const s = spec(50);
    for (const r of a) {
      assert.ok(r.created_at >= s.start && r.created_at < s.end);
      assert.ok(r.updated_at >= r.created_at);
    }
  });

  it("follows each path's error and latency profile", () => {
    const rows = generateTraffic(spec(50));
    for (const [name, profile, isNew] of [["legacy", LEGACY_PROFILE, false], ["new", NEW_PROFILE, true]] as const) {
      const mine = rows.filter((r) => (JSON.parse(r.metadata).useStateless === "true") === isNew);
      const errRate = mine.filter((r) => r.status === "error").length / mine.length;
      assert.ok(Math.abs(errRate - profile.errorRate) < profile.errorRate * 0.5, `${name} error rate ${errRate}`);
      assert.ok(mine.filter((r) => r.status === "error").every((r) => r.error_message !== null));
      const secs = mine.map((r) => (r.updated_at.getTime() - r.created_at.getTime()) / 1000).sort((x, y) => x - y);
      const p95 = secs[Math.floor(0.95 * (secs.length - 1))];
      const expected = profile.medianSeconds * Math.exp(1.645 * profile.sigma);
      assert.ok(Math.abs(p95 - expected) / expected < 0.1, `${name} p95 ${p95} vs ${expected}`);
    }
  });

  it("at 0 % nobody is on the new path; at 100 % everybody is", () => {
    assert.ok(generateTraffic(spec(0)).every((r) => JSON.parse(r.metadata).useStateless !== "true"));
    assert.ok(generateTraffic(spec(100)).every((r) => JSON.parse(r.metadata).useStateless === "true"));
  });
});
