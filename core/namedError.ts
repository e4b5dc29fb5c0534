/**
 * The base of the project's own error classes: an Error whose `name` is its class's name, so that
 * `String(err)` reads "RefusedError: …" and a caller can tell the kind without an import.
 * `class RefusedError extends NamedError {}` is the whole declaration.
 *
 * Pure: no I/O.
 */
export class NamedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
