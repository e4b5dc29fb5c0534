import { strict as assert } from "node:assert";
import fc from "fast-check";
import { parseConfig } from "../../core/config";
import { GateInput, StageMetrics, VERDICTS, decide, latencyThresholds } from "../../core/gate";
import { evaluateGate } from "../../core/gateText";
import {
  betaBinomialCS,
  betaPriorFor,
  differenceBounds,
  differenceCS,
  differenceEstimate,
  fixedHorizonRequests,
  logBeta,
  logGamma,
  mixtureVarianceFor,
  normalCdf,
  normalMixtureHalfWidth,
  normalQuantile,
  oneSidedBoundary,
  oneSidedHalfWidth,
  oneSidedMixtureVarianceFor,
  optimalMixtureRatio,
  optimalOneSidedRatio,
} from "../../core/sequential";
import { seededRandom } from "../../drill/traffic";

const FC = { numRuns: 300, seed: 20261201 };

describe("always-valid confidence sequences (core/sequential.ts)", () => {
  it("log-gamma and the normal helpers match known values", () => {
    assert.ok(Math.abs(logGamma(5) - Math.log(24)) < 1e-12);
    assert.ok(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-12);
    assert.ok(Math.abs(logBeta(2, 3) - Math.log(1 / 12)) < 1e-12);
    assert.ok(Math.abs(normalQuantile(0.95) - 1.6448536269514722) < 1e-7);
    assert.ok(Math.abs(normalQuantile(0.8) - 0.8416212335729143) < 1e-7);
    assert.ok(Math.abs(normalCdf(1.959963984540054) - 0.975) < 1e-6);
    // u = ln(1 + u) + 2 ln(1/α), the optimal τ²/V
    const u = optimalMixtureRatio(0.01);
    assert.ok(Math.abs(u - Math.log1p(u) - 2 * Math.log(100)) < 1e-9);
  });

  it("the fixed-horizon yardstick is the textbook sample size", () => {
    // (z_.95 + z_.8)² (p1 q1 / s + p2 q2 / (1 − s)) / δ², equal split, 2 % vs 1 %, no margin
    const z = 1.6448536269514722 + 0.8416212335729143;
    const want = Math.ceil((z * z * (0.02 * 0.98 / 0.5 + 0.01 * 0.99 / 0.5)) / 0.0001);
    assert.ok(Math.abs(fixedHorizonRequests(0.02, 0.01, 0, 0.5, 0.05, 0.8) - want) <= 1);
  });

  it("beta-binomial CS: the edges are where the mixture martingale crosses 1/α (just outside, never inside)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 1e-4, max: 0.3, noNaN: true }), fc.double({ min: 0.001, max: 0.5, noNaN: true }), (n, frac, alpha, c) => {
        const k = Math.min(n, Math.floor(frac * (n + 1)));
        const prior = betaPriorFor(c);
        const cs = betaBinomialCS(k, n, alpha, prior);
        const logM = (p: number) => logBeta(prior.a + k, prior.b + n - k) - logBeta(prior.a, prior.b) - (k > 0 ? k * Math.log(p) : 0) - (n - k > 0 ? (n - k) * Math.log1p(-p) : 0);
        const level = Math.log(1 / alpha);
        assert.ok(cs.lower <= k / n && k / n <= cs.upper);
        if (cs.lower > 0) assert.ok(logM(cs.lower) >= level - 1e-9, `lower edge inside: ${logM(cs.lower)} < ${level}`);
        if (cs.upper < 1) assert.ok(logM(cs.upper) >= level - 1e-9, `upper edge inside`);
        // A ten-thousandth of the width inside each edge is inside the CS: the interval is not overstated.
        if (cs.lower > 0 && cs.lower < k / n) assert.ok(logM(cs.lower + 1e-4 * (k / n - cs.lower)) < level);
        if (cs.upper < 1 && cs.upper > k / n) assert.ok(logM(cs.upper - 1e-4 * (cs.upper - k / n)) < level);
        if (k === 0) assert.equal(cs.lower, 0);
        if (k === n) assert.equal(cs.upper, 1);
      }),
      FC,
    );
  });

  it("monotone in the count: more errors never lower either bound", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 1e-4, max: 0.2, noNaN: true }), (n, frac, alpha) => {
        const k = Math.min(n - 1, Math.floor(frac * n));
        const prior = betaPriorFor(0.02);
        const a = betaBinomialCS(k, n, alpha, prior);
        const b = betaBinomialCS(k + 1, n, alpha, prior);
        assert.ok(b.lower >= a.lower - 1e-12 && b.upper >= a.upper - 1e-12);
      }),
      FC,
    );
  });

  it("nested in α: a smaller α gives a wider interval", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 1e-4, max: 0.2, noNaN: true }), (n, frac, alpha) => {
        const k = Math.min(n, Math.floor(frac * (n + 1)));
        const wide = betaBinomialCS(k, n, alpha / 10);
        const narrow = betaBinomialCS(k, n, alpha);
        assert.ok(wide.lower <= narrow.lower + 1e-12 && wide.upper >= narrow.upper - 1e-12);
      }),
      FC,
    );
  });

  it("symmetric: successes and failures swap with the prior, and the interval mirrors", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (n, frac, c) => {
        const k = Math.min(n, Math.floor(frac * (n + 1)));
        const p = betaPriorFor(c);
        const a = betaBinomialCS(k, n, 0.01, p);
        const b = betaBinomialCS(n - k, n, 0.01, { a: p.b, b: p.a });
        assert.ok(Math.abs(a.lower - (1 - b.upper)) < 1e-7 && Math.abs(a.upper - (1 - b.lower)) < 1e-7, JSON.stringify({ a, b }));
      }),
      FC,
    );
  });

  it("difference CS: antisymmetric in the paths, monotone in the new path's errors, centred on the estimate", () => {
    const tau2 = mixtureVarianceFor(0.005, 0.002);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50_000 }), fc.integer({ min: 1, max: 50_000 }), fc.double({ min: 0, max: 0.2, noNaN: true }), fc.double({ min: 0, max: 0.2, noNaN: true }), (nn, nl, rn, rl) => {
        const en = Math.min(nn - 1, Math.floor(rn * nn));
        const el = Math.floor(rl * nl);
        const a = differenceCS(en, nn, el, nl, 0.002, tau2);
        const b = differenceCS(el, nl, en, nn, 0.002, tau2);
        assert.ok(Math.abs(a.lower + b.upper) < 1e-12 && Math.abs(a.upper + b.lower) < 1e-12);
        assert.ok(a.lower <= a.estimate && a.estimate <= a.upper);
        const more = differenceCS(en + 1, nn, el, nl, 0.002, tau2);
        assert.ok(more.estimate > a.estimate);
        // Monotone where the bounds are not clipped at ±1.
        if (a.upper < 1 && more.upper < 1) assert.ok(more.upper >= a.upper - 1e-12 || more.variance < a.variance);
      }),
      FC,
    );
  });

  it("normal-mixture half-width: shrinks as the variance does, grows as α does", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-9, max: 1e-2, noNaN: true }), fc.double({ min: 1e-4, max: 0.1, noNaN: true }), (v, alpha) => {
        const tau2 = mixtureVarianceFor(0.005, alpha);
        assert.ok(normalMixtureHalfWidth(v / 2, alpha, tau2) < normalMixtureHalfWidth(v, alpha, tau2));
        assert.ok(normalMixtureHalfWidth(v, alpha / 2, tau2) > normalMixtureHalfWidth(v, alpha, tau2));
      }),
      FC,
    );
  });

  it("one-sided normal mixture: its edge is where 2·sqrt(1/(1+r))·exp(r s²/(2(1+r)))·Φ(s·sqrt(r/(1+r))) reaches 1/α, between the two-sided edges at 2α and α", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1e4, noNaN: true }), fc.double({ min: 1e-6, max: 0.4, noNaN: true }), (r, alpha) => {
        const s = oneSidedBoundary(r, alpha);
        const logM = (x: number) => Math.LN2 - 0.5 * Math.log1p(r) + (r * x * x) / (2 * (1 + r)) + Math.log(normalCdf(x * Math.sqrt(r / (1 + r))));
        const level = Math.log(1 / alpha);
        assert.ok(logM(s) >= level - 1e-9, `edge inside: ${logM(s)} < ${level}`);
        assert.ok(logM(s * (1 - 1e-6)) < level + 1e-9, "edge overstated");
        const two = (a: number) => Math.sqrt(((1 + r) / r) * (Math.log1p(r) + 2 * Math.log(1 / a)));
        assert.ok(s <= two(alpha) + 1e-9 && s >= two(2 * alpha) - 1e-9);
        // Nested in α, and the half-width shrinks with the variance.
        assert.ok(oneSidedBoundary(r, alpha / 2) > s);
      }),
      FC,
    );
    const tau2 = oneSidedMixtureVarianceFor(0.005, 0.01);
    assert.ok(oneSidedHalfWidth(1e-6, 0.01, tau2) < oneSidedHalfWidth(2e-6, 0.01, tau2));
  });

  it("one-sided tuning: the optimum r minimises the boundary, and the half-width there equals the target effect", () => {
    for (const alpha of [0.05, 0.01, 0.002]) {
      const { r, s } = optimalOneSidedRatio(alpha);
      for (const k of [0.8, 1.25]) assert.ok(oneSidedBoundary(r * k, alpha) >= s - 1e-9);
      const tau2 = oneSidedMixtureVarianceFor(0.005, alpha);
      const vStar = (0.005 / s) ** 2;
      assert.ok(Math.abs(oneSidedHalfWidth(vStar, alpha, tau2) - 0.005) < 1e-9);
      // One-sided is tighter than the two-sided CS at the same α.
      assert.ok(s < Math.sqrt(1 + optimalMixtureRatio(alpha)));
    }
  });

  it("difference bounds: swapping the paths swaps the sides (and their α), the estimate lies between them", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50_000 }), fc.integer({ min: 1, max: 50_000 }), fc.double({ min: 0, max: 0.2, noNaN: true }), fc.double({ min: 0, max: 0.2, noNaN: true }), fc.double({ min: 1e-4, max: 0.1, noNaN: true }), fc.double({ min: 1e-4, max: 0.1, noNaN: true }), (nn, nl, rn, rl, al, au) => {
        const en = Math.min(nn, Math.floor(rn * nn));
        const el = Math.min(nl, Math.floor(rl * nl));
        const a = differenceBounds(en, nn, el, nl, al, au, 0.005);
        const b = differenceBounds(el, nl, en, nn, au, al, 0.005);
        assert.ok(Math.abs(a.lower + b.upper) < 1e-12 && Math.abs(a.upper + b.lower) < 1e-12);
        assert.ok(a.lower <= a.estimate && a.estimate <= a.upper);
        // A smaller α on a side widens that side only.
        const c = differenceBounds(en, nn, el, nl, al / 10, au, 0.005);
        assert.ok(c.lower <= a.lower + 1e-15 && c.upper === a.upper);
      }),
      FC,
    );
  });

  it("difference CS and difference bounds are centred on differenceEstimate, with its plug-in variance", () => {
    const tau2 = mixtureVarianceFor(0.005, 0.002);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50_000 }), fc.integer({ min: 1, max: 50_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (nn, nl, rn, rl) => {
        const en = Math.floor(rn * nn);
        const el = Math.floor(rl * nl);
        const want = differenceEstimate(en, nn, el, nl);
        assert.equal(want.estimate, en / nn - el / nl);
        assert.ok(want.variance > 0, "shrunk: never zero, even with no errors");
        for (const got of [differenceCS(en, nn, el, nl, 0.002, tau2), differenceBounds(en, nn, el, nl, 0.001, 0.01, 0.005)]) {
          assert.equal(got.estimate, want.estimate);
          assert.equal(got.variance, want.variance);
        }
      }),
      FC,
    );
    // Shrunk rates: 0 of 100 and 1 of 100 give (1/102)(101/102)/100 + (2/102)(100/102)/100.
    assert.ok(Math.abs(differenceEstimate(0, 100, 1, 100).variance - ((1 / 102) * (101 / 102) + (2 / 102) * (100 / 102)) / 100) < 1e-18);
  });

  /** Seeded streams, looked at every `every` observations: the share of streams the CS ever excluded the truth from. */
  function missRate(streams: number, length: number, every: number, one: (rng: () => number, n: number, state: number[]) => boolean, seed: number): number {
    let missed = 0;
    for (let s = 0; s < streams; s++) {
      const rng = seededRandom(seed + s);
      const state: number[] = [];
      for (let n = every; n <= length; n += every) {
        if (!one(rng, n, state)) {
          missed++;
          break;
        }
      }
    }
    return missed / streams;
  }

  it("coverage: the beta-binomial CS misses the truth at ANY look in at most α of the streams (continuous monitoring)", () => {
    const alpha = 0.1;
    for (const p of [0.01, 0.05]) {
      const prior = betaPriorFor(0.02);
      const rate = missRate(
        300,
        20_000,
        200,
        (rng, n, st) => {
          let k = st[0] ?? 0;
          for (let i = 0; i < 200; i++) if (rng() < p) k++;
          st[0] = k;
          const cs = betaBinomialCS(k, n, alpha, prior);
          return cs.lower <= p && p <= cs.upper;
        },
        1000,
      );
      // α plus three binomial standard errors of 300 streams.
      assert.ok(rate <= alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / 300), `p = ${p}: missed in ${(100 * rate).toFixed(1)}% of streams`);
    }
  });

  it("coverage: the difference CS misses the true difference at any look in at most α of the streams (10 % / 90 % split)", () => {
    const alpha = 0.1;
    const [pn, pl] = [0.015, 0.01];
    const tau2 = mixtureVarianceFor(0.005, alpha);
    const rate = missRate(
      300,
      60_000,
      2000,
      (rng, _n, st) => {
        const s = st.length ? st : [0, 0, 0, 0];
        for (let i = 0; i < 2000; i++) {
          const isNew = rng() < 0.1;
          const err = rng() < (isNew ? pn : pl);
          if (isNew) {
            s[0]++;
            if (err) s[1]++;
          } else {
            s[2]++;
            if (err) s[3]++;
          }
        }
        st.splice(0, st.length, ...s);
        const cs = differenceCS(s[1], s[0], s[3], s[2], alpha, tau2);
        return cs.lower <= pn - pl && pn - pl <= cs.upper;
      },
      5000,
    );
    assert.ok(rate <= alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / 300), `missed in ${(100 * rate).toFixed(1)}% of streams`);
  });

  it("coverage: each one-sided difference bound is crossed by the truth at any look in at most its α of the streams", () => {
    const [pn, pl] = [0.015, 0.01];
    for (const [al, au] of [[0.1, 0.02], [0.02, 0.1]]) {
      let lowMiss = 0;
      let highMiss = 0;
      const streams = 300;
      for (let st = 0; st < streams; st++) {
        const rng = seededRandom(9000 + st);
        const s = [0, 0, 0, 0];
        let lo = false;
        let hi = false;
        for (let look = 0; look < 30; look++) {
          for (let i = 0; i < 2000; i++) {
            const isNew = rng() < 0.1;
            const err = rng() < (isNew ? pn : pl);
            s[isNew ? 0 : 2]++;
            if (err) s[isNew ? 1 : 3]++;
          }
          const b = differenceBounds(s[1], s[0], s[3], s[2], al, au, 0.005);
          if (b.lower > pn - pl) lo = true;
          if (b.upper < pn - pl) hi = true;
        }
        if (lo) lowMiss++;
        if (hi) highMiss++;
      }
      const tol = (a: number) => a + 3 * Math.sqrt((a * (1 - a)) / streams);
      assert.ok(lowMiss / streams <= tol(al), `lower bound above the truth in ${lowMiss} of ${streams} streams (α ${al})`);
      assert.ok(highMiss / streams <= tol(au), `upper bound below the truth in ${highMiss} of ${streams} streams (α ${au})`);
    }
  });
});

describe("the gate's decisions (properties)", () => {
  const cfg = parseConfig({ appImage: "example/app:1" }, { stack: "test" });
  const asOf = new Date("2026-01-10T12:00:00Z");
  const lines = latencyThresholds(cfg.thresholds);
  const rank = (v: string) => VERDICTS.indexOf(v as (typeof VERDICTS)[number]);
  const gateAt = (stage: 10 | 25 | 50 | 75 | 100, newReq: number, newErr: number, legacyReq: number, legacyErr: number, slow: number): GateInput => {
    const lat = (n: number) => lines.map((s) => ({ thresholdSeconds: s, timed: n, over: Math.min(n, Math.round(n * slow)) }));
    const m: StageMetrics = {
      windowStart: asOf,
      windowEnd: asOf,
      new: { requests: newReq, errors: newErr, users: Math.max(1, Math.round(newReq / 10)), avgSeconds: 1, p95Seconds: 1, latency: lat(newReq) },
      legacy: stage === 100 ? { requests: 0, errors: 0, users: 0, avgSeconds: null, p95Seconds: null, latency: lat(0) } : { requests: legacyReq, errors: legacyErr, users: Math.max(1, Math.round(legacyReq / 10)), avgSeconds: 1, p95Seconds: 1, latency: lat(legacyReq) },
      contaminationCount: 0,
    };
    return { stage, flags: { enableStatelessOrchestration: true, enableSafeJsonParser: true }, stageStartedAt: new Date(asOf.getTime() - 49 * 3_600_000), asOf, metrics: m, thresholds: cfg.thresholds, gate: { ...cfg.gate, exposureTolerancePct: 100 } };
  };

  it("monotone in errors: one more new-path error never makes the verdict more favourable", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(10 as const, 25 as const, 50 as const, 75 as const, 100 as const),
        fc.integer({ min: 1, max: 200_000 }),
        fc.double({ min: 0, max: 0.1, noNaN: true }),
        fc.integer({ min: 1, max: 400_000 }),
        fc.double({ min: 0, max: 0.1, noNaN: true }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        (stage, nn, rn, nl, rl, slow) => {
          const en = Math.min(nn - 1, Math.floor(rn * nn));
          const el = Math.floor(rl * nl);
          const a = evaluateGate(gateAt(stage, nn, en, nl, el, slow)).verdict;
          const b = evaluateGate(gateAt(stage, nn, en + 1, nl, el, slow)).verdict;
          assert.ok(rank(b) >= rank(a) || (a === "WAIT" && b === "WAIT"), `${a} -> ${b}`);
          // PROCEED needs the comparison shown within the margin; PAUSE from it needs it shown beyond: never both.
          const r = evaluateGate(gateAt(stage, nn, en, nl, el, slow));
          if (r.comparison) assert.ok(!(r.comparison.upperPp <= r.comparison.marginPp && r.comparison.lowerPp > r.comparison.marginPp));
          if (r.verdict === "PROCEED") assert.ok(r.criteria.filter((c) => c.kind === "success").every((c) => c.status === "met"));
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });

  it("decide(): met and failed exclude each other, and a wider interval never decides what a narrower one leaves open", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("success" as const, "pause" as const, "rollback" as const),
        fc.constantFrom("<" as const, "<=" as const, ">" as const, ">=" as const),
        fc.double({ min: 0, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (kind, op, x, y, line, widen) => {
          const lo = Math.min(x, y);
          const hi = Math.max(x, y);
          const d = decide(kind, op, lo, hi, line);
          const wide = decide(kind, op, lo - widen, hi + widen, line);
          if (d === "undecided") assert.equal(wide, "undecided");
          if (wide !== "undecided") assert.equal(wide, d);
        },
      ),
      FC,
    );
  });
});
