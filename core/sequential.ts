/**
 * Always-valid (time-uniform) confidence sequences for the rollout gate.
 *
 * A confidence sequence (CS) at level 1 − α is a sequence of intervals
 * [L_t, U_t], one per look t, such that P(∃ t: θ ∉ [L_t, U_t]) ≤ α. The
 * guarantee holds simultaneously over every look, so the gate may be read as
 * often as anyone likes (every push, every re-run, every `rollout status`)
 * without inflating its error rates, and a decision taken at any look keeps
 * its confidence. Both bounds come from one nonnegative (super)martingale M_t
 * with M_0 = 1; Ville's inequality, P(∃ t: M_t ≥ 1/α) ≤ α, makes the set
 * {θ : M_t(θ) < 1/α} a CS.
 *
 * Two constructions, one per kind of question:
 *
 * 1. One proportion (an error rate, or the share of requests slower than a
 *    latency threshold) against a fixed line — `betaBinomialCS`. Exact and
 *    nonasymptotic for i.i.d. Bernoulli observations: Robbins' beta-binomial
 *    mixture martingale
 *        M_t(p) = B(a + S_t, b + t − S_t) / (B(a, b) · p^S_t · (1 − p)^(t − S_t)),
 *    the likelihood ratio of the Beta(a, b) mixture of Bernoulli(θ) against
 *    Bernoulli(p) (Robbins 1970; Howard, Ramdas, McAuliffe & Sekhon 2021,
 *    "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann.
 *    Statist. 49(2), Section 3 "conjugate mixtures", the beta-binomial
 *    boundary). −log M_t(p) is convex in p with its minimum at p̂ = S_t / t,
 *    so the CS is an interval found by bisection on each side of p̂.
 *
 * 2. The difference of two proportions, new − legacy, with unequal and
 *    changing traffic shares — `differenceCS`. The normal-mixture boundary of
 *    the mixture SPRT (Robbins 1970; Johari, Koomen, Pekelis & Walsh 2017,
 *    "Peeking at A/B tests: why it matters, and what to do about it", KDD,
 *    Section 4): with θ̂ = p̂_new − p̂_legacy and its variance
 *    V = p̃_n(1 − p̃_n)/n_new + p̃_l(1 − p̃_l)/n_legacy, and a N(0, τ²) mixture
 *    over the true difference,
 *        Λ_t(θ) = sqrt(V / (V + τ²)) · exp(τ² (θ̂ − θ)² / (2 V (V + τ²))),
 *    and Λ_t(θ) < 1/α ⇔ |θ̂ − θ| < sqrt( V (V + τ²) / τ² · ln((V + τ²) / (V α²)) ).
 *    This is Howard et al.'s two-sided normal-mixture boundary (their eq. for
 *    the "normal mixture", with ρ = 1/τ² in intrinsic time 1/V) applied to the
 *    CLT-normalised difference: valid asymptotically (Waudby-Smith, Arbour,
 *    Sinha, Kennedy & Ramdas, "Time-uniform central limit theory and
 *    asymptotic confidence sequences", Ann. Statist. 2024), which is why the
 *    gate judges it only above minimum volumes on both paths, and why the
 *    benchmark (`npm run bench:gate`) measures its real error rates. The
 *    variance plugs in shrunk rates p̃ = (errors + 1) / (requests + 2), so a
 *    path with no errors yet does not claim zero variance.
 *
 *    The gate uses the one-sided version (`differenceBounds`, below): a
 *    false PAUSE needs only the lower bound to be wrong and a false PROCEED
 *    only the upper one, so each side is its own one-sided mixture at its
 *    own α (mixing over alternatives on that side only, a half-normal; the
 *    formula is at `oneSidedBoundary`), about as tight as the two-sided CS
 *    at 2α. `differenceCS` (two-sided) stays for comparison and tests.
 *
 * Tuning (chosen before any data, from the config alone):
 * - τ² (difference): the boundary is tightest when its half-width equals the
 *   margin δ. Minimising the half-width at fixed V gives τ²/V = u with
 *   u = ln(1 + u) + 2 ln(1/α); the half-width there is sqrt(V (1 + u)), so
 *   V* = δ² / (1 + u) and τ² = u δ² / (1 + u). For the one-sided bounds the
 *   same rule, with the optimum r = τ²/V found numerically
 *   (`optimalOneSidedRatio`): Howard et al.'s choice of ρ for a target
 *   intrinsic time, Johari et al.'s mixture for the minimum detectable effect.
 * - Beta(a, b) (one proportion against a line c): mean c and standard
 *   deviation c / 2 (the scale of a deviation worth detecting), i.e.
 *   a + b = 4 (1 − c) / c − 1, floored at 2.
 *
 * Pure: no I/O, clock or environment.
 */

export interface Interval {
  lower: number;
  upper: number;
}

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; relative error below 1e-13). */
export function logGamma(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`logGamma: x must be a positive finite number, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let s = c[0];
  for (let i = 1; i < g + 2; i++) s += c[i] / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** ln B(a, b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

function checkCounts(what: string, successes: number, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what}: the number of observations must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`${what}: the count must be an integer from 0 to ${n}, got ${successes}`);
  }
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
}

/** The Beta prior for a proportion judged against the line `c` (see the module comment). */
export function betaPriorFor(c: number): { a: number; b: number } {
  const m = Math.min(Math.max(c, 1e-6), 1 - 1e-6);
  const sum = Math.max(2, (4 * (1 - m)) / m - 1);
  return { a: sum * m, b: sum * (1 - m) };
}

/**
 * The beta-binomial confidence sequence for a Bernoulli mean after `n`
 * observations with `successes` ones, at level 1 − alpha: every p with
 * M_n(p) < 1/alpha. Exact for i.i.d. Bernoulli data, at every n.
 */
export function betaBinomialCS(successes: number, n: number, alpha: number, prior: { a: number; b: number } = { a: 0.5, b: 0.5 }): Interval {
  checkCounts("betaBinomialCS", successes, n);
  checkAlpha(alpha);
  if (!(prior.a > 0 && prior.b > 0 && Number.isFinite(prior.a) && Number.isFinite(prior.b))) {
    throw new RangeError(`betaBinomialCS: the prior's a and b must be positive, got ${prior.a}, ${prior.b}`);
  }
  if (n === 0) return { lower: 0, upper: 1 };
  const s = successes;
  const f = n - s;
  const logMix = logBeta(prior.a + s, prior.b + f) - logBeta(prior.a, prior.b);
  const level = Math.log(1 / alpha);
  // ln M_n(p) = logMix − s ln p − f ln(1 − p); inside the CS while below `level`.
  const logM = (p: number) => logMix - (s > 0 ? s * Math.log(p) : 0) - (f > 0 ? f * Math.log1p(-p) : 0);
  const pHat = s / n;
  // g(p) = ln M_n(p) − level is convex, decreasing below p̂ and increasing above it.
  // Newton's method started outside the interval (g ≥ 0) stays outside and
  // converges monotonically to the edge, so each bound errs on the wide side.
  const g = (p: number) => logM(p) - level;
  const dg = (p: number) => (f > 0 ? f / (1 - p) : 0) - (s > 0 ? s / p : 0);
  const spread = Math.sqrt((2 * level * Math.max(pHat * (1 - pHat), 1 / n)) / n) + (2 * level) / n;
  const edge = (start: number, toward: (p: number) => number): number => {
    let p = start;
    for (let i = 0; i < 200 && !(g(p) >= 0); i++) p = toward(p);
    for (let i = 0; i < 100; i++) {
      const d = dg(p);
      if (!(d !== 0) || !Number.isFinite(d)) break;
      const next = p - g(p) / d;
      if (!(next > 0 && next < 1) || Math.abs(next - p) <= 1e-13 * Math.max(p, 1e-300)) break;
      if (!(g(next) >= 0)) break; // rounding: never step inside
      p = next;
    }
    return p;
  };
  const lower = s === 0 ? 0 : edge(Math.max(pHat - spread, pHat * 1e-6, Number.MIN_VALUE), (p) => p / 2);
  const upper = f === 0 ? 1 : edge(Math.min(pHat + spread, 1 - (1 - pHat) * 1e-6), (p) => (p + 1) / 2);
  return { lower: Math.max(0, Math.min(lower, pHat)), upper: Math.min(1, Math.max(upper, pHat)) };
}

/** u solving u = ln(1 + u) + 2 ln(1/α): the optimal τ²/V of the normal mixture (module comment). */
export function optimalMixtureRatio(alpha: number): number {
  checkAlpha(alpha);
  const twoL = 2 * Math.log(1 / alpha);
  let u = twoL + 1;
  for (let i = 0; i < 100; i++) {
    const next = Math.log1p(u) + twoL;
    if (Math.abs(next - u) < 1e-12) return next;
    u = next;
  }
  return u;
}

const ratioCache = new Map<number, number>();

/** τ² for a difference judged against a margin δ (> 0), tightest where the half-width is δ. */
export function mixtureVarianceFor(margin: number, alpha: number): number {
  if (!(margin > 0) || !Number.isFinite(margin)) throw new RangeError(`the margin must be a positive number, got ${margin}`);
  // A pure function of alpha; remembered because the gate asks for the same few values at every look.
  let u = ratioCache.get(alpha);
  if (u === undefined) {
    u = optimalMixtureRatio(alpha);
    if (ratioCache.size < 64) ratioCache.set(alpha, u);
  }
  return (u * margin * margin) / (1 + u);
}

/** Half-width of the two-sided normal-mixture CS for an estimate with variance V (> 0). */
export function normalMixtureHalfWidth(variance: number, alpha: number, tau2: number): number {
  checkAlpha(alpha);
  if (!(variance > 0) || !(tau2 > 0)) throw new RangeError(`variance and τ² must be positive, got ${variance}, ${tau2}`);
  const v = variance;
  return Math.sqrt(((v * (v + tau2)) / tau2) * Math.log((v + tau2) / (v * alpha * alpha)));
}

export interface DifferenceCS extends Interval {
  /** p̂_new − p̂_legacy. */
  estimate: number;
  /** The plug-in variance of the estimate. */
  variance: number;
}

/**
 * p̂_new − p̂_legacy and its plug-in variance, each path's rate shrunk to (e + 1)/(n + 2) in the
 * variance so that a path with no errors yet does not claim zero variance. The one estimate both
 * `differenceCS` and `differenceBounds` are centred on; both request counts must be positive.
 */
export function differenceEstimate(newErrors: number, newRequests: number, legacyErrors: number, legacyRequests: number): { estimate: number; variance: number } {
  const shrunk = (e: number, n: number) => (e + 1) / (n + 2);
  const pn = shrunk(newErrors, newRequests);
  const pl = shrunk(legacyErrors, legacyRequests);
  const variance = (pn * (1 - pn)) / newRequests + (pl * (1 - pl)) / legacyRequests;
  const estimate = newErrors / newRequests - legacyErrors / legacyRequests;
  return { estimate, variance };
}

/**
 * The always-valid CS for p_new − p_legacy (asymptotic; see the module
 * comment), at level 1 − alpha, with mixture variance tau2.
 */
export function differenceCS(newErrors: number, newRequests: number, legacyErrors: number, legacyRequests: number, alpha: number, tau2: number): DifferenceCS {
  checkCounts("differenceCS (new path)", newErrors, newRequests);
  checkCounts("differenceCS (legacy path)", legacyErrors, legacyRequests);
  if (newRequests === 0 || legacyRequests === 0) return { lower: -1, upper: 1, estimate: NaN, variance: Infinity };
  const { estimate, variance } = differenceEstimate(newErrors, newRequests, legacyErrors, legacyRequests);
  const w = normalMixtureHalfWidth(variance, alpha, tau2);
  return { estimate, variance, lower: Math.max(-1, estimate - w), upper: Math.min(1, estimate + w) };
}

// ---------------------------------------------------------------------------
// One-sided normal mixture (the gate's comparison)

/**
 * ln of the one-sided normal-mixture martingale at a standardised deviation
 * s = (θ̂ − θ)/√V ≥ 0, with r = τ²/V: mixing the likelihood ratio
 * exp(μ (θ̂ − θ)/V − μ²/(2V)) over μ ≥ 0 with a half-normal of scale τ gives
 *     Λ⁺ = 2 · sqrt(1/(1 + r)) · exp(r s² / (2 (1 + r))) · Φ(s · sqrt(r/(1 + r))).
 * Only deviations in one direction count as evidence, so its level set
 * {θ : Λ⁺ < 1/α} is a one-sided bound at level α (Howard et al. 2021, the
 * one-sided normal-mixture boundary; compare the two-sided one above, which
 * is this without the factor 2Φ(·)).
 */
function oneSidedLogMixture(s: number, r: number): number {
  return Math.LN2 - 0.5 * Math.log1p(r) + (r * s * s) / (2 * (1 + r)) + Math.log(normalCdf(s * Math.sqrt(r / (1 + r))));
}

/**
 * The standardised one-sided boundary: the s ≥ 0 where Λ⁺(s) = 1/α, for
 * r = τ²/V > 0. Λ⁺ increases in s, is below 1 at s = 0, and reaches 1/α no
 * later than the two-sided boundary at α (2Φ ≥ 1 for s ≥ 0) and no sooner
 * than the two-sided boundary at 2α (2Φ ≤ 2): bisection between the two.
 */
export function oneSidedBoundary(r: number, alpha: number): number {
  checkAlpha(alpha);
  if (!(r > 0) || !Number.isFinite(r)) throw new RangeError(`oneSidedBoundary: τ²/V must be a positive number, got ${r}`);
  const level = Math.log(1 / alpha);
  const twoSided = (a: number) => Math.sqrt(((1 + r) / r) * (Math.log1p(r) + 2 * Math.log(1 / a)));
  let lo = alpha < 0.5 ? twoSided(2 * alpha) : 0;
  let hi = twoSided(alpha);
  if (oneSidedLogMixture(lo, r) >= level) return lo; // only by rounding
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (oneSidedLogMixture(mid, r) >= level) hi = mid;
    else lo = mid;
  }
  return hi; // the edge, on the wide side
}

const oneSidedRatioCache = new Map<number, { r: number; s: number }>();

/**
 * The r = τ²/V minimising the standardised one-sided boundary at level α, and
 * that boundary (golden-section search over ln r). Choosing τ² so this optimum
 * falls where the half-width equals the effect one cares about is Howard et
 * al.'s (2021) tuning of the mixture to a target intrinsic time, and Johari et
 * al.'s (2017) choice of the mixture for the minimum detectable effect.
 */
export function optimalOneSidedRatio(alpha: number): { r: number; s: number } {
  checkAlpha(alpha);
  const hit = oneSidedRatioCache.get(alpha);
  if (hit) return hit;
  const f = (x: number) => oneSidedBoundary(Math.exp(x), alpha);
  let a = Math.log(0.05);
  let b = Math.log(1e5);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let i = 0; i < 80 && b - a > 1e-7; i++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  const r = Math.exp((a + b) / 2);
  const out = { r, s: oneSidedBoundary(r, alpha) };
  if (oneSidedRatioCache.size < 64) oneSidedRatioCache.set(alpha, out);
  return out;
}

/** τ² for a one-sided bound at level α, tightest where its half-width equals `effect` (> 0). */
export function oneSidedMixtureVarianceFor(effect: number, alpha: number): number {
  if (!(effect > 0) || !Number.isFinite(effect)) throw new RangeError(`the effect must be a positive number, got ${effect}`);
  const { r, s } = optimalOneSidedRatio(alpha);
  // Half-width √V · s is minimal relative to √V at V* = effect² / s², where τ² = r V*.
  return (r * effect * effect) / (s * s);
}

/** Half-width of the one-sided normal-mixture bound for an estimate with variance V (> 0). */
export function oneSidedHalfWidth(variance: number, alpha: number, tau2: number): number {
  if (!(variance > 0) || !(tau2 > 0)) throw new RangeError(`variance and τ² must be positive, got ${variance}, ${tau2}`);
  return Math.sqrt(variance) * oneSidedBoundary(tau2 / variance, alpha);
}

/**
 * One-sided always-valid bounds for p_new − p_legacy: a lower bound at level
 * `lowerAlpha` (P(the truth is ever below it) ≤ lowerAlpha) and an upper
 * bound at `upperAlpha`, each from its own one-sided normal mixture tuned to
 * `effect` (the margin). Asymptotic, like `differenceCS`; same plug-in variance.
 * Together they cover the truth at every look with probability at least
 * 1 − lowerAlpha − upperAlpha.
 */
export function differenceBounds(newErrors: number, newRequests: number, legacyErrors: number, legacyRequests: number, lowerAlpha: number, upperAlpha: number, effect: number): DifferenceCS {
  checkCounts("differenceBounds (new path)", newErrors, newRequests);
  checkCounts("differenceBounds (legacy path)", legacyErrors, legacyRequests);
  checkAlpha(lowerAlpha);
  checkAlpha(upperAlpha);
  if (newRequests === 0 || legacyRequests === 0) return { lower: -1, upper: 1, estimate: NaN, variance: Infinity };
  const { estimate, variance } = differenceEstimate(newErrors, newRequests, legacyErrors, legacyRequests);
  const lw = oneSidedHalfWidth(variance, lowerAlpha, oneSidedMixtureVarianceFor(effect, lowerAlpha));
  const uw = oneSidedHalfWidth(variance, upperAlpha, oneSidedMixtureVarianceFor(effect, upperAlpha));
  return { estimate, variance, lower: Math.max(-1, estimate - lw), upper: Math.min(1, estimate + uw) };
}

// ---------------------------------------------------------------------------
// Fixed-horizon reference (the benchmark's yardstick, not used by the gate)

/** Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation refined by one Halley step. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  let x: number;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  // One Halley step against an erfc-based Φ.
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** Φ(x), via erfc (W. J. Cody-style continued fraction is overkill here: Numerical Recipes' erfc, |ε| < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r / 2 : r / 2;
}

/**
 * Total requests a single fixed-horizon one-sided test (normal approximation,
 * unpooled variance) needs to reject H0: p_new − p_legacy ≤ margin at level
 * alpha with the given power, when the truth is (pNew, pLegacy) and a share
 * `newShare` of requests is on the new path.
 */
export function fixedHorizonRequests(pNew: number, pLegacy: number, margin: number, newShare: number, alpha: number, power: number): number {
  const effect = pNew - pLegacy - margin;
  if (!(effect > 0)) throw new RangeError(`fixedHorizonRequests: the true difference must exceed the margin`);
  const z = normalQuantile(1 - alpha) + normalQuantile(power);
  const perTotal = (pNew * (1 - pNew)) / newShare + (pLegacy * (1 - pLegacy)) / (1 - newShare);
  return Math.ceil((z * z * perTotal) / (effect * effect));
}
