/** The line diff `rollout advance` and `rollback` print of a stack-file edit. Pure. */
import { structuredPatch } from "diff";

/** Edits beyond this many lines are not shown line by line: the diff's cost stays bounded for any file size. */
export const MAX_DIFF_EDITS = 200;

/**
 * A unified-style line diff with one line of context (jsdiff's Myers diff:
 * time and memory grow with the file's length times the number of changed
 * lines, which `MAX_DIFF_EDITS` bounds). Line ends (LF, CRLF) are not shown.
 */
export function lineDiff(a: string, b: string, label: string): string {
  const out: string[] = [`--- a/${label}`, `+++ b/${label}`];
  const patch = structuredPatch(label, label, a, b, undefined, undefined, { context: 1, stripTrailingCr: true, maxEditLength: MAX_DIFF_EDITS });
  if (patch === undefined) {
    out.push(`(more than ${MAX_DIFF_EDITS} lines differ: not shown line by line; compare with git diff)`);
    return out.join("\n");
  }
  for (const h of patch.hunks) {
    out.push(`@@ line ${h.newStart} @@`);
    for (const l of h.lines) if (!l.startsWith("\\")) out.push(l);
  }
  return out.join("\n");
}
