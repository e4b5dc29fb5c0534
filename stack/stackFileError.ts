import { NamedError } from "../core/namedError";

/** A stack or project file that is refused (a shape, a name, a key or a value the project does not read as Pulumi would). */
export class StackFileError extends NamedError {}
