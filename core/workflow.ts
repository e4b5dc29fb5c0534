/**
 * The one home of docs/RUNBOOK.md's workflow for a stack-file change, as the
 * commands the CLI and the alert runbooks print: a branch, a commit of the
 * stack file only, a push, a pull request (which shows the preview and the
 * gate); the merge runs `pulumi up`. No hint tells anyone to run `pulumi up`
 * by hand. Pure: words are shell-quoted (core/shell.ts), never pasted.
 */
import { shellCommand } from "./shell";

export interface WorkflowStep {
  command: string;
  /** Why the step is there; shown after the command as a shell comment. */
  note?: string;
}

/** The branch a change goes on, named like the RUNBOOK's examples (rollout/prod-10, rollback/prod-immediate; the relay's rollback/prod-immediate-<fingerprint>). */
export function changeBranch(
  stack: string,
  change: { kind: "advance"; to: number } | { kind: "rollback"; to: number | "gradual" } | { kind: "immediate-rollback"; alert?: string } | { kind: "hold" } | { kind: "release" },
): string {
  if (change.kind === "advance") return `rollout/${stack}-${change.to}`;
  if (change.kind === "hold" || change.kind === "release") return `${change.kind}/${stack}`;
  if (change.kind === "rollback") return `rollback/${stack}-${change.to}`;
  // The relay's (cli/responder.ts): one branch per alert fingerprint, its dedupe key.
  return `rollback/${stack}-immediate${change.alert === undefined ? "" : `-${change.alert}`}`;
}

/**
 * The stage an advance branch (`changeBranch(stack, { kind: "advance", to })`) goes to, or undefined when
 * `branch` is not one of that stack's advance branches.
 */
export function advanceBranchStage(stack: string, branch: string): number | undefined {
  const prefix = changeBranch(stack, { kind: "advance", to: 0 }).replace(/0$/, "");
  if (!branch.startsWith(prefix)) return undefined;
  const rest = branch.slice(prefix.length);
  return /^(0|[1-9]\d{0,2})$/.test(rest) ? Number(rest) : undefined;
}

/** The first line of a stage change's commit message (and a proposal's title): `rollout(prod): advance 10% -> 25%`. */
export function changeSubject(stack: string, summary: string): string {
  return `rollout(${stack}): ${summary}`;
}

/** After the stack file was edited in the working tree: branch, check, commit, push, pull request. */
export function reviewSteps(o: { stack: string; file: string; message: string; branch: string }): WorkflowStep[] {
  return [
    { command: shellCommand(["git", "switch", "-c", o.branch]), note: "a branch of its own (skip if you are on one already)" },
    { command: shellCommand(["npm", "run", "plan", "--", "--stack", o.stack]), note: "offline: what the stack declares now" },
    { command: `${shellCommand(["git", "add", o.file])} && ${shellCommand(["git", "commit", "-m", o.message, "--", o.file])}` },
    { command: shellCommand(["git", "push", "-u", "origin", o.branch]) },
    { command: shellCommand(["gh", "pr", "create", "--fill"]), note: "the pull request shows the preview and the gate; the merge runs pulumi up" },
  ];
}

/**
 * The whole change from an up-to-date main, for a runbook: branch first, then
 * `edit` (the rollout command that writes the stack file), then review.
 */
export function changeFromMain(o: { stack: string; file: string; message: string; branch: string; edit: string }): string[] {
  return [
    `git switch main && git pull && ${shellCommand(["git", "switch", "-c", o.branch])}`,
    o.edit,
    `${shellCommand(["git", "add", o.file])} && ${shellCommand(["git", "commit", "-m", o.message, "--", o.file])}`,
    shellCommand(["git", "push", "-u", "origin", o.branch]),
    shellCommand(["gh", "pr", "create", "--fill"]),
  ];
}

/** Steps as printed lines, each note as a trailing shell comment. */
export function formatSteps(steps: readonly WorkflowStep[]): string[] {
  return steps.map((s) => (s.note ? `${s.command}   # ${s.note}` : s.command));
}
