/**
 * What an offline evaluation records (offline/evaluate.ts produces it,
 * offline/plan.ts compares two): the data shapes and a resource's identity.
 * Pure, and imports nothing, so both sides can use it without importing
 * each other.
 */

/** A resource's identity within one evaluation. */
export const resourceKey = (r: { type: string; name: string }) => `${r.type}::${r.name}`;

export interface EvaluatedResource {
  /** Pulumi type token, e.g. `docker:index/container:Container`. */
  type: string;
  name: string;
  /** `type::name` of the parent, when it has one other than the stack. */
  parent?: string;
  /** True for provider resources (containers...), false for components. */
  custom: boolean;
  /** Inputs as the provider receives them (secrets as their — placeholder — values). */
  inputs: Record<string, unknown>;
  /** Top-level input names whose values are, or contain, Pulumi secrets. */
  secretInputs: string[];
  /**
   * Where the secrets are, at the leaf: dot paths of input values that are
   * Pulumi secrets (object keys by name, array elements by index), e.g.
   * `taskSpec.containerSpec.env`. Everything outside them is plain.
   */
  secretPaths: string[];
  options: {
    deleteBeforeReplace?: boolean;
    protect?: boolean;
    ignoreChanges?: string[];
    replaceOnChanges?: string[];
    /** `type::name` of explicit dependencies. */
    dependsOn: string[];
  };
}

export interface Evaluation {
  stack: string;
  resources: EvaluatedResource[];
  outputs: Record<string, unknown>;
  /** Output names whose values are secrets. */
  secretOutputs: string[];
  /** Warnings the program logged (pulumi.log.warn). */
  warnings: string[];
}
