/**
 * Sticky canary bucketing: the one definition of which users the new path
 * serves. The drill's simulated traffic (drill/traffic.ts) and the reference app
 * (reference-app/) both import it, so what the drill predicts is what the app
 * does. Pure: no I/O, clock or env.
 *
 * The rule, for the real app to implement: a user's bucket is the first four
 * bytes of SHA-256(user id, UTF-8), read as an unsigned big-endian integer,
 * modulo 100; the user is on the new path when that bucket is below the
 * effective percentage (0 while either flag is off). Raising the percentage
 * only ever adds users, and a user never flips back and forth.
 */
import { createHash } from "node:crypto";

/** A user's stable bucket in [0, 100): the same user always lands on the same path. */
export function userBucket(userId: string): number {
  return createHash("sha256").update(userId).digest().readUInt32BE(0) % 100;
}

/** Sticky assignment: a user is on the new path when their bucket is below the effective percentage. */
export function onNewPath(userId: string, effectivePct: number): boolean {
  return userBucket(userId) < effectivePct;
}
