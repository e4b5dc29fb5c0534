/**
 * The local images `npm run images` builds from Debian's packages, so the whole
 * stack runs on a machine that reaches no container registry (docs/air-gapped.md).
 * Pure: the image list, the cache key of each image, the build order, the
 * Dockerfile facts the builder needs, and the `pulumi config set` lines that
 * point a stack at the images. The I/O (debootstrap, docker) is cli/images.ts.
 *
 * Cache: an image's hash covers everything that goes into it — its definition,
 * its Dockerfile, every file the Dockerfile copies in (lockfiles included), a
 * .dockerignore, and the exact image ID of each local base it is built FROM.
 * The hash is recorded as a label; a build is skipped when the tagged image
 * carries the same hash. Tags are stable, so config that names them never
 * changes on a rebuild.
 */
import { createHash } from "node:crypto";

export const LOCAL_NAMESPACE = "valuecanvas-local";
/** Label holding an image's cache hash. */
export const HASH_LABEL = "valuecanvas.images/hash";
/** Bumped when the builder itself changes what it puts into an image. */
export const BUILDER_VERSION = 2;

export interface BaseImageDef {
  kind: "debootstrap";
  key: string;
  tag: string;
  suite: string;
  variant: "minbase";
  /** `docker import --change` instructions. */
  changes: readonly string[];
  /** Files written into the root before it is imported (path → content). */
  files: Readonly<Record<string, { content: string; mode: number }>>;
}

export interface BuiltImageDef {
  kind: "dockerfile";
  key: string;
  tag: string;
  /** Repository-relative Dockerfile. */
  dockerfile: string;
  /** Candidate build contexts (repository-relative), first one holding every COPY source wins. */
  contexts: readonly string[];
  /** The stack config key (dotted path) that names this image, when there is one. */
  configKey?: string;
  /** What the image stands in for. */
  purpose: string;
  /** Built only when its Dockerfile exists (the reference app lives in its own folder). */
  optional?: boolean;
}

export type ImageDef = BaseImageDef | BuiltImageDef;

/** Keeps package maintainer scripts from starting daemons during a build (no init system in a container). */
const POLICY_RC_D = { content: "#!/bin/sh\n# No daemon is started while an image is built.\nexit 101\n", mode: 0o755 };
/** apt in an image: no recommends, no cached .debs. */
const APT_CONF = {
  content: 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nDPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb || true"; };\n',
  mode: 0o644,
};

function base(suite: string): BaseImageDef {
  return {
    kind: "debootstrap",
    key: `debian-${suite}`,
    tag: `${LOCAL_NAMESPACE}/debian:${suite}`,
    suite,
    variant: "minbase",
    changes: ['CMD ["/bin/bash"]', "ENV LANG=C.UTF-8"],
    files: { "usr/sbin/policy-rc.d": POLICY_RC_D, "etc/apt/apt.conf.d/90valuecanvas-local": APT_CONF },
  };
}

/** Debian 12 (bookworm) for the infrastructure images (its PostgreSQL is 15, the dev default's major). */
export const BOOKWORM = base("bookworm");
/** Debian 13 (trixie), whose nodejs is 20: the reference app's base. */
export const TRIXIE = base("trixie");

export const IMAGES: readonly ImageDef[] = [
  BOOKWORM,
  TRIXIE,
  {
    kind: "dockerfile",
    key: "nginx",
    tag: `${LOCAL_NAMESPACE}/nginx:1`,
    dockerfile: "images/nginx/Dockerfile",
    contexts: ["images/nginx"],
    configKey: "proxyImage",
    purpose: "the edge proxy (nginx, with wget for its health check)",
  },
  {
    kind: "dockerfile",
    key: "postgres",
    tag: `${LOCAL_NAMESPACE}/postgres:15`,
    dockerfile: "images/postgres/Dockerfile",
    contexts: ["images/postgres"],
    configKey: "devPostgresImage",
    purpose: "the dev PostgreSQL (the official image's POSTGRES_* contract)",
  },
  {
    kind: "dockerfile",
    key: "prometheus",
    tag: `${LOCAL_NAMESPACE}/prometheus:2`,
    dockerfile: "images/prometheus/Dockerfile",
    contexts: ["images/prometheus"],
    configKey: "monitoring.prometheusImage",
    purpose: "Prometheus",
  },
  {
    kind: "dockerfile",
    key: "alertmanager",
    tag: `${LOCAL_NAMESPACE}/alertmanager:0`,
    dockerfile: "images/alertmanager/Dockerfile",
    contexts: ["images/alertmanager"],
    configKey: "monitoring.alertmanagerImage",
    purpose: "Alertmanager",
  },
  {
    kind: "dockerfile",
    key: "postgres-exporter",
    tag: `${LOCAL_NAMESPACE}/postgres-exporter:0`,
    dockerfile: "images/postgres-exporter/Dockerfile",
    contexts: ["images/postgres-exporter"],
    configKey: "monitoring.exporterImage",
    purpose: "the postgres exporter",
  },
  {
    kind: "dockerfile",
    key: "reference-app",
    tag: `${LOCAL_NAMESPACE}/reference-app:1`,
    dockerfile: "reference-app/Dockerfile",
    contexts: ["reference-app", "."],
    configKey: "appImage",
    purpose: "the reference app (reference-app/)",
    optional: true,
  },
  {
    kind: "dockerfile",
    key: "reference-app-bad",
    tag: `${LOCAL_NAMESPACE}/reference-app:bad`,
    dockerfile: "images/reference-app-bad/Dockerfile",
    contexts: ["images/reference-app-bad"],
    purpose: "a bad release of the reference app (listens, answers 500 on every path, fails its health check): the rollback tests and bench",
  },
  {
    kind: "dockerfile",
    key: "reference-app-dies",
    tag: `${LOCAL_NAMESPACE}/reference-app:dies12`,
    dockerfile: "images/reference-app-dies/Dockerfile",
    contexts: ["images/reference-app-dies"],
    purpose: "a release of the reference app that turns healthy, then dies 12 s after start: the soak's tests and bench (issue 22)",
  },
  {
    kind: "dockerfile",
    key: "swarm-node",
    tag: `${LOCAL_NAMESPACE}/swarm-node:0`,
    dockerfile: "images/swarm-node/Dockerfile",
    contexts: ["images/swarm-node"],
    purpose: "a Docker engine in a container, from Debian's docker.io: the nodes of the multi-node Swarm harness (issue 26)",
  },
];

export class ImagesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImagesError";
  }
}

export function imageByKey(key: string, defs: readonly ImageDef[] = IMAGES): ImageDef {
  const d = defs.find((x) => x.key === key);
  if (!d) throw new ImagesError(`image "${key}" is not one of the images: allowed ${defs.map((x) => x.key).join(", ")}`);
  return d;
}

// ---------------------------------------------------------------------------
// Dockerfile facts

/** Dockerfile instructions, continuation lines joined, comments and blank lines dropped. */
export function dockerfileInstructions(text: string): Array<{ op: string; args: string; line: number }> {
  const out: Array<{ op: string; args: string; line: number }> = [];
  const lines = text.split(/\r?\n/);
  let buf = "";
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (buf === "" && /^\s*(#|$)/.test(raw)) continue;
    if (buf !== "" && /^\s*#/.test(raw)) continue; // comment inside a continuation
    if (buf === "") start = i + 1;
    const cont = /\\\s*$/.test(raw);
    buf += (buf ? " " : "") + (cont ? raw.replace(/\\\s*$/, "") : raw).trim();
    if (!cont) {
      const m = /^(\S+)\s*(.*)$/.exec(buf);
      if (m) out.push({ op: m[1].toUpperCase(), args: m[2], line: start });
      buf = "";
    }
  }
  if (buf) {
    const m = /^(\S+)\s*(.*)$/.exec(buf);
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2], line: start });
  }
  return out;
}

/**
 * The images a Dockerfile builds FROM. Each must be one of the local images
 * (the point is to need no registry); a multi-stage build may also name an
 * earlier stage. Throws naming the line, the image and what is allowed.
 */
export function localBasesOf(file: string, text: string, defs: readonly ImageDef[] = IMAGES): ImageDef[] {
  const stages = new Set<string>();
  const bases: ImageDef[] = [];
  for (const ins of dockerfileInstructions(text)) {
    if (ins.op !== "FROM") continue;
    const w = ins.args.split(/\s+/).filter((x) => x && !x.startsWith("--"));
    const ref = w[0] ?? "";
    const stageName = w[1]?.toLowerCase() === "as" ? w[2]?.toLowerCase() : undefined;
    const earlierStage = stages.has(ref.toLowerCase());
    if (stageName) stages.add(stageName);
    if (earlierStage) continue;
    const def = defs.find((d) => d.tag === ref);
    if (!def) {
      throw new ImagesError(
        `${file}:${ins.line}: FROM ${JSON.stringify(ref)} is not a local image; allowed: ${defs
          .filter((d) => d.kind === "debootstrap")
          .map((d) => d.tag)
          .join(", ")} (or another local image), so that no registry is needed`,
      );
    }
    if (!bases.includes(def)) bases.push(def);
  }
  if (bases.length === 0) throw new ImagesError(`${file}: no FROM instruction`);
  return bases;
}

/** Split a JSON-array or whitespace form instruction argument into words. */
function words(args: string): string[] {
  const t = args.trim();
  if (t.startsWith("[")) {
    try {
      const v: unknown = JSON.parse(t);
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
    } catch {
      /* fall through: the shell form */
    }
  }
  return t.split(/\s+/).filter(Boolean);
}

/**
 * The context paths a Dockerfile's COPY and ADD read (sources, not the
 * destination; copies from another stage or image are not context files).
 * A remote ADD source is refused: it would bypass the cache key.
 */
export function copySources(file: string, text: string): string[] {
  const out: string[] = [];
  for (const ins of dockerfileInstructions(text)) {
    if (ins.op !== "COPY" && ins.op !== "ADD") continue;
    const w = words(ins.args);
    const flags = w.filter((x) => x.startsWith("--"));
    if (flags.some((f) => f.startsWith("--from="))) continue;
    const paths = w.filter((x) => !x.startsWith("--"));
    if (paths.length < 2) throw new ImagesError(`${file}:${ins.line}: ${ins.op} needs a source and a destination`);
    for (const src of paths.slice(0, -1)) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src) || /^git@/.test(src)) {
        throw new ImagesError(`${file}:${ins.line}: ${ins.op} ${src}: a remote source cannot be part of the cache key; allowed: files in the build context`);
      }
      out.push(src.replace(/^\.\//, "").replace(/\/+$/, "") || ".");
    }
  }
  return [...new Set(out)];
}

/** True when a COPY source is a pattern (the builder then hashes the whole context). */
export const isPattern = (src: string) => /[*?[]/.test(src);

// ---------------------------------------------------------------------------
// Cache keys

const sha256 = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");

/** Canonical JSON: object keys sorted, so a hash never depends on insertion order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

export function fileDigest(content: string | Buffer): string {
  return sha256(content);
}

/** A base image's hash: its whole definition (suite, variant, import changes, files written in). */
export function baseHash(def: BaseImageDef): string {
  return sha256(canonical({ builder: BUILDER_VERSION, def }));
}

export interface BuildInputs {
  /** The Dockerfile's text. */
  dockerfile: string;
  /** The chosen context, repository-relative. */
  context: string;
  /** Every context file that goes in: path relative to the context → sha256 of its content (and mode). */
  files: Readonly<Record<string, string>>;
  /** Image ID of each local base, by tag. */
  baseIds: Readonly<Record<string, string>>;
}

/** A built image's hash: its definition, Dockerfile, every file copied in, and its bases' exact IDs. */
export function builtHash(def: BuiltImageDef, inputs: BuildInputs): string {
  const { key, tag, dockerfile } = def;
  return sha256(
    canonical({
      builder: BUILDER_VERSION,
      def: { key, tag, dockerfile },
      dockerfileText: inputs.dockerfile,
      context: inputs.context,
      files: inputs.files,
      baseIds: inputs.baseIds,
    }),
  );
}

// ---------------------------------------------------------------------------
// What to build, in which order

/**
 * The images to consider for a request: the named ones (all when none) and
 * every local base they are built FROM, bases first. `basesOf` gives a
 * Dockerfile image's bases (read from its Dockerfile).
 */
export function buildOrder(requested: readonly string[], basesOf: (d: BuiltImageDef) => ImageDef[], defs: readonly ImageDef[] = IMAGES): ImageDef[] {
  const wanted = requested.length === 0 ? [...defs] : requested.map((k) => imageByKey(k, defs));
  const order: ImageDef[] = [];
  const visiting = new Set<string>();
  const visit = (d: ImageDef) => {
    if (order.includes(d)) return;
    if (visiting.has(d.key)) throw new ImagesError(`image "${d.key}" is built FROM itself (a cycle)`);
    visiting.add(d.key);
    if (d.kind === "dockerfile") for (const b of basesOf(d)) visit(b);
    visiting.delete(d.key);
    order.push(d);
  };
  for (const d of wanted) visit(d);
  // Bases (no dependencies) first keeps them together, so they can be made in parallel.
  return [...order.filter((d) => d.kind === "debootstrap"), ...order.filter((d) => d.kind === "dockerfile")];
}

// ---------------------------------------------------------------------------
// Debian mirror (read from the machine's apt sources at run time; none is written in the repository)

/** Debian suite names (codenames and aliases): an apt entry for one of them is a Debian archive. */
export const DEBIAN_SUITES: readonly string[] = ["bullseye", "bookworm", "trixie", "forky", "sid", "oldstable", "stable", "testing", "unstable"];

/**
 * The first Debian archive URI in apt sources (one-line `deb` lists or deb822
 * `.sources`): an enabled `deb` entry with the `main` component for a Debian
 * suite (not a security or updates suite, not another distribution's, such as
 * an Ubuntu runner's). Undefined: let debootstrap use its default.
 */
export function mirrorFromAptSources(texts: readonly string[]): string | undefined {
  const isDebianSuite = (s: string) => DEBIAN_SUITES.includes(s);
  for (const text of texts) {
    // one-line format
    for (const line of text.split(/\r?\n/)) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line);
      if (m && isDebianSuite(m[2]) && m[3].split(/\s+/).includes("main") && /^https?:\/\//.test(m[1])) return m[1].replace(/\/+$/, "");
    }
    // deb822 stanzas
    for (const stanza of text.split(/\n\s*\n/)) {
      const fields: Record<string, string> = {};
      for (const line of stanza.split(/\r?\n/)) {
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m) fields[m[1].toLowerCase()] = m[2].trim();
      }
      if (fields.enabled === "no") continue;
      if (!(fields.types ?? "").split(/\s+/).includes("deb")) continue;
      const uri = (fields.uris ?? "").split(/\s+/).find((u) => /^https?:\/\//.test(u));
      const suites = (fields.suites ?? "").split(/\s+/).filter(Boolean);
      if (uri && suites.some(isDebianSuite) && (fields.components ?? "").split(/\s+/).includes("main")) return uri.replace(/\/+$/, "");
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Pointing a stack at the images

/** Quote one word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `pulumi config set` commands that point `stack` at the local images (dotted keys with --path). */
export function configCommands(stack: string, defs: readonly ImageDef[] = IMAGES): string[] {
  return defs
    .filter((d): d is BuiltImageDef => d.kind === "dockerfile" && d.configKey !== undefined)
    .map((d) =>
      ["pulumi", "config", "set", "--stack", stack, ...(d.configKey!.includes(".") ? ["--path"] : []), d.configKey!, d.tag].map(shellQuote).join(" "),
    );
}
