/**
 * POSIX shell quoting, for the commands we print for people to copy and run
 * (e.g. `rollout advance`'s `git commit -m <message>`, whose message carries
 * the `--reason` text). Pure. Nothing in this project runs a shell; a printed
 * command must still mean exactly its words when pasted into one.
 */

/** One shell word that a POSIX shell reads back as exactly `s` (single quotes; `'` as `'\''`). */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A command line of quoted words. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
