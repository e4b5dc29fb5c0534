/**
 * The app's database credentials, rotated with no failed request (issue 21
 * finding 5; docs/database.md). This is AWS Secrets Manager's "alternating
 * users" rotation strategy:
 *
 * - The app's privileges (core/grants.ts ROLE_GRANTS.app) are granted to a
 *   NOLOGIN group role, ROLE_NAMES.app. Two login roles, the slots, are members
 *   of it and inherit them; each carries ROLE_SETTINGS.app itself (PostgreSQL
 *   keeps statement_timeout and the connection limit per login role: a member
 *   does not inherit them from a group).
 * - Stack config `appCredentialRotation` (default 0) counts the rotations. Its
 *   parity names the slot the app uses: even a, odd b.
 * - A rotation raises the count by one: the slot becoming active gets a new
 *   password (its RandomPassword's keepers change), then the app's URL, a new
 *   Docker secret, rolls the service to that slot start-first. The other slot,
 *   which the running tasks use until each is replaced, keeps its password
 *   until the next rotation. To invalidate a leaked password, rotate twice.
 * - Slot a is the single app role the program had before (same role name, same
 *   resource names, no keepers until rotation 2), so the upgrade changes
 *   neither its password nor the app's URL and restarts no task.
 *
 * Only a raise by exactly one is safe: any other change of the count can give
 * the slot the running tasks use a new password before they are replaced
 * (rotationChangeProblem says which).
 *
 * Pure: no Pulumi import.
 */

export const APP_SLOTS = ["a", "b"] as const;
export type AppSlot = (typeof APP_SLOTS)[number];

/** The login role of each slot. Slot a keeps the name the single app role had. */
export const APP_LOGIN_ROLES: Readonly<Record<AppSlot, string>> = Object.freeze({ a: "valuecanvas_app", b: "valuecanvas_app_b" });

/** The largest count of rotations the config accepts. */
export const MAX_APP_CREDENTIAL_ROTATION = 1_000_000;

function checked(rotation: number): number {
  if (!Number.isInteger(rotation) || rotation < 0 || rotation > MAX_APP_CREDENTIAL_ROTATION) {
    throw new RangeError(`appCredentialRotation must be an integer from 0 to ${MAX_APP_CREDENTIAL_ROTATION}, got ${rotation}`);
  }
  return rotation;
}

/** The slot the app uses after `rotation` rotations: a when even, b when odd. */
export function activeSlot(rotation: number): AppSlot {
  return checked(rotation) % 2 === 0 ? "a" : "b";
}

/**
 * The rotation that last made `slot` active, after `rotation` rotations: its
 * password's generation. Undefined while the slot still has the password it was
 * created with (slot a before rotation 2, slot b before rotation 1).
 */
export function slotGeneration(rotation: number, slot: AppSlot): number | undefined {
  const r = checked(rotation);
  const parity = slot === "a" ? 0 : 1;
  const g = r % 2 === parity ? r : r - 1;
  return g >= 1 ? g : undefined;
}

/**
 * The `keepers` of `slot`'s RandomPassword: a changed value replaces the password
 * (terraform-provider-random's keepers require replacement when they change, a
 * null map becoming one with a value included). None for a slot's first password:
 * an existing stack's app password has no keepers, and stays as it is.
 */
export function passwordKeepers(rotation: number, slot: AppSlot): Record<string, string> | undefined {
  const g = slotGeneration(rotation, slot);
  return g === undefined ? undefined : { rotation: String(g) };
}

/**
 * Why a change of `appCredentialRotation` from `from` to `to` in one `pulumi up`
 * would fail requests, or undefined when it is safe (unchanged, or raised by one).
 * Any other change renews the password of the slot in use at `from` (its
 * generation differs), which the running tasks keep using until each is replaced.
 */
export function rotationChangeProblem(from: number, to: number): string | undefined {
  if (to === from || to === from + 1) return undefined;
  const inUse = activeSlot(from);
  return `appCredentialRotation ${from} → ${to}: it gives ${APP_LOGIN_ROLES[inUse]}, the role the running tasks use, a new password before they are replaced; raise it by exactly 1 per pulumi up`;
}
