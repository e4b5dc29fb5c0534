import { NamedError } from "../core/namedError";

/** A stack file the CLI cannot edit safely (a shape it does not splice, a read-only or changed file): nothing is written. */
export class StackEditError extends NamedError {}
