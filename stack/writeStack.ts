/**
 * Writing an edited stack file: atomically, through a symlink, never over a
 * read-only file, and never over a file that changed since it was read.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import writeFileAtomicLib from "write-file-atomic";
import { StackEditError } from "./stackEditError";

/**
 * Write `text` to `file` atomically with write-file-atomic (a temp file in the
 * same folder, fsync, rename; the file's mode kept). A symlinked file is
 * written through: its target is replaced, the link stays. A read-only file
 * is refused (StackEditError), never replaced. With `expectedBefore`, a file
 * changed meanwhile is refused too: checked once the temp file exists, the
 * last hook before the rename, and the temp file is removed.
 */
export function writeFileAtomic(file: string, text: string, expectedBefore?: string): void {
  const target = writableTarget(file);
  const mode = (fs.statSync(target, { throwIfNoEntry: false })?.mode ?? 0o644) & 0o777;
  writeFileAtomicLib.sync(target, text, {
    mode,
    fsync: true,
    tmpfileCreated: () => {
      if (expectedBefore !== undefined && fs.readFileSync(target, "utf8") !== expectedBefore) {
        throw new StackEditError(`${path.basename(file)} changed while it was being edited; nothing written, run the command again`);
      }
    },
  });
}

/** The file a write to `file` must replace (a symlink's target), after checking it may be written. */
export function writableTarget(file: string): string {
  let target: string;
  try {
    target = fs.realpathSync(file);
  } catch {
    return file; // a new file: nothing to follow
  }
  const st = fs.statSync(target);
  const shown = target === path.resolve(file) ? path.basename(file) : `${path.basename(file)} (a link to ${target})`;
  if (!st.isFile()) throw new StackEditError(`${shown} is not a regular file; nothing written`);
  let writable = (st.mode & 0o222) !== 0;
  try {
    fs.accessSync(target, fs.constants.W_OK);
  } catch {
    writable = false;
  }
  if (!writable) {
    throw new StackEditError(`${shown} is read-only (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}); nothing written. Make it writable (chmod u+w) if it should be edited`);
  }
  return target;
}
