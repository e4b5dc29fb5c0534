/**
 * Who applied the override label (issue 21, finding 4). The label counts only
 * when someone other than the pull request's author applied it, and it never
 * covers ROLLBACK (ci/comment.ts gateDecision). The workflow runs on
 * `opened`, `synchronize` and `reopened` too, where the event names no label
 * actor, so the applier is read from the pull request's timeline (GitHub's
 * REST `GET /repos/{owner}/{repo}/issues/{n}/timeline`, or `/events`: the same
 * `labeled` / `unlabeled` objects), in order: the last `labeled` of the label
 * not undone by a later `unlabeled`.
 *
 * Pure: JSON text in, a decision out.
 */
import { z } from "zod";

const labelEvent = z
  .object({
    event: z.string(),
    actor: z.object({ login: z.string() }).loose().nullable().optional(),
    label: z.object({ name: z.string() }).loose().optional(),
    created_at: z.string().optional(),
  })
  .loose();

export interface OverrideStatus {
  label: string;
  /** Whether the label is on the pull request now (by the timeline). */
  present: boolean;
  /** Who applied it last, when present. */
  appliedBy?: string;
  /** True when present and applied by someone other than the author. */
  counts: boolean;
  /** One sentence for the comment. */
  note: string;
}

/** Parse a timeline (one JSON array, or several pages as an array of arrays, as `github.paginate` or `gh api --paginate --slurp` give them). */
export function parseTimeline(json: string): Array<z.infer<typeof labelEvent>> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new Error(`the pull request's timeline is not JSON: ${(e as Error).message}`);
  }
  const flat = Array.isArray(raw) && raw.every(Array.isArray) ? (raw as unknown[][]).flat() : raw;
  if (!Array.isArray(flat)) throw new Error("the pull request's timeline must be a JSON array of events");
  // Other event kinds (commented, committed, reviewed, ...) have other shapes: only label events are read.
  return flat.filter((e) => typeof e === "object" && e !== null && ((e as { event?: unknown }).event === "labeled" || (e as { event?: unknown }).event === "unlabeled")).map((e, i) => {
    const p = labelEvent.safeParse(e);
    if (!p.success) throw new Error(`label event ${i} of the timeline is malformed: ${p.error.issues[0].path.join(".")}: ${p.error.issues[0].message}`);
    return p.data;
  });
}

/** Whether the override label counts: on the pull request, applied last by someone other than `author`. */
export function overrideStatus(timelineJson: string, author: string, label: string): OverrideStatus {
  let appliedBy: string | undefined;
  let present = false;
  for (const e of parseTimeline(timelineJson)) {
    if (e.label?.name !== label) continue;
    if (e.event === "labeled") {
      present = true;
      appliedBy = e.actor?.login;
    } else {
      present = false;
      appliedBy = undefined;
    }
  }
  if (!present) return { label, present, counts: false, note: `no "${label}" label` };
  if (appliedBy === undefined) return { label, present, counts: false, note: `the "${label}" label has no recorded actor, so it does not count` };
  if (appliedBy.toLowerCase() === author.toLowerCase()) {
    return { label, present, appliedBy, counts: false, note: `the "${label}" label was applied by the pull request's author (${appliedBy}), so it does not count: someone else must apply it` };
  }
  return { label, present, appliedBy, counts: true, note: `the "${label}" label was applied by ${appliedBy} (not the author, ${author})` };
}
