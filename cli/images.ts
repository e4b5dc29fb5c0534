/**
 * `npm run images`: build the local images of tools/images.ts from Debian's
 * packages (docs/air-gapped.md). The I/O half: debootstrap, `docker import`,
 * `docker build`, progress and timings. What to build and each cache key are
 * decided in tools/images.ts.
 *
 *   npm run images                         # every image (bases first), skipping the ones whose hash matches
 *   npm run images -- postgres nginx       # those (and their bases)
 *   npm run images -- --rebuild            # ignore the cache
 *   npm run images -- --print-config dev   # the pulumi config set lines for a stack
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command, CommanderError } from "commander";
import {
  BaseImageDef,
  BuiltImageDef,
  HASH_LABEL,
  IMAGES,
  ImageDef,
  ImagesError,
  baseHash,
  buildOrder,
  builtHash,
  configCommands,
  copySources,
  fileDigest,
  isPattern,
  localBasesOf,
  mirrorFromAptSources,
} from "../tools/images";
import { PROJECT_DIR } from "../program/projectDir";

const ROOT = PROJECT_DIR;
/** Never hashed as context files (not sources of an image; a .dockerignore should leave them out). */
const SKIPPED_DIRS = new Set(["node_modules", ".git"]);

type Status = "built" | "cached" | "missing" | "failed";
export interface Outcome {
  def: ImageDef;
  status: Status;
  seconds: number;
  detail?: string;
}

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s`;
const say = (key: string, msg: string) => process.stdout.write(`[${elapsed()}] ${key.padEnd(18)} ${msg}\n`);

export interface RunResult {
  code: number;
  tail: string[];
}

/** Run a command (argument array), log every line to `log`, report selected lines as progress. */
function run(cmd: string, args: string[], opts: { log: fs.WriteStream; progress?: (line: string) => void; stdin?: NodeJS.ReadableStream; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"], env: opts.env ?? process.env });
    const tail: string[] = [];
    let partial = "";
    const onData = (chunk: Buffer) => {
      opts.log.write(chunk);
      const lines = (partial + chunk.toString("utf8")).split(/\r?\n/);
      partial = lines.pop() ?? "";
      for (const l of lines) {
        tail.push(l);
        if (tail.length > 30) tail.shift();
        opts.progress?.(l);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    if (opts.stdin && child.stdin) opts.stdin.pipe(child.stdin);
    child.on("error", (e) => {
      tail.push(`${cmd}: ${e.message}`);
      resolve({ code: 127, tail });
    });
    child.on("close", (code) => resolve({ code: code ?? 1, tail }));
  });
}

function capture(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", () => undefined);
    child.on("error", () => resolve({ code: 127, out: "" }));
    child.on("close", (code) => resolve({ code: code ?? 1, out: out.trim() }));
  });
}

/** The tagged image's ID and hash label, or undefined when the tag does not exist. */
async function inspect(tag: string): Promise<{ id: string; hash?: string } | undefined> {
  const r = await capture("docker", ["image", "inspect", "--format", "{{json .Id}} {{json .Config.Labels}}", tag]);
  if (r.code !== 0) return undefined;
  const i = r.out.indexOf(" ");
  const id = JSON.parse(r.out.slice(0, i)) as string;
  const labels = JSON.parse(r.out.slice(i + 1)) as Record<string, string> | null;
  return { id, hash: labels?.[HASH_LABEL] };
}

/** Remove the image a tag pointed at before a rebuild, when nothing else uses it (vfs keeps full copies). */
async function dropPrevious(previousId: string | undefined, tag: string): Promise<void> {
  if (!previousId) return;
  const now = await inspect(tag);
  if (now && now.id !== previousId) await capture("docker", ["image", "rm", previousId]);
}

/** A build that stopped at `step`: its exit code and last lines of output. */
export function stepFailed(def: ImageDef, step: string, r: RunResult, secs: () => number): Outcome {
  return { def, status: "failed", seconds: secs(), detail: `${step} exited ${r.code}:\n${r.tail.join("\n")}` };
}

/**
 * The end of a build whose last step (`docker import` or `docker build`) gave `r`: failed, or built,
 * with the image the tag pointed at before (`previousId`) removed when nothing else uses it.
 */
export async function finishBuild(def: ImageDef, step: string, r: RunResult, previousId: string | undefined, secs: () => number): Promise<Outcome> {
  if (r.code !== 0) return stepFailed(def, step, r, secs);
  await dropPrevious(previousId, def.tag);
  say(def.key, `built in ${secs().toFixed(0)}s`);
  return { def, status: "built", seconds: secs() };
}

let logDir: string | undefined;
/** A log file per image, in a directory of this run's own (runs against different engines may overlap). */
function logFile(key: string): { file: string; stream: fs.WriteStream } {
  logDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "valuecanvas-images-"));
  const file = path.join(logDir, `${key}.log`);
  return { file, stream: fs.createWriteStream(file) };
}

function aptSourceTexts(): string[] {
  const files = ["/etc/apt/sources.list"];
  try {
    for (const f of fs.readdirSync("/etc/apt/sources.list.d").sort()) if (/\.(list|sources)$/.test(f)) files.push(path.join("/etc/apt/sources.list.d", f));
  } catch {
    /* no directory */
  }
  return files.flatMap((f) => {
    try {
      return [fs.readFileSync(f, "utf8")];
    } catch {
      return [];
    }
  });
}

async function buildBase(def: BaseImageDef, rebuild: boolean, mirror: string | undefined): Promise<Outcome> {
  const start = Date.now();
  const secs = () => (Date.now() - start) / 1000;
  const hash = baseHash(def);
  const existing = await inspect(def.tag);
  if (!rebuild && existing?.hash === hash) {
    say(def.key, `cached (${def.tag}, hash ${hash.slice(0, 12)})`);
    return { def, status: "cached", seconds: secs() };
  }
  if (process.getuid?.() !== 0) return { def, status: "failed", seconds: secs(), detail: "debootstrap needs root: run npm run images as root" };
  const log = logFile(def.key);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `valuecanvas-${def.key}-`));
  // mkdtemp makes the directory 0700, and it becomes the image's "/": no other user could run anything.
  fs.chmodSync(dir, 0o755);
  try {
    say(def.key, `debootstrap --variant=${def.variant} ${def.suite}${mirror ? ` (mirror from apt sources: ${mirror})` : ""}; log: ${log.file}`);
    // One progress line per debootstrap phase (its first "I: <Verb> ..." line), the rest in the log.
    const seen = new Set<string>();
    const boot = await run("debootstrap", [`--variant=${def.variant}`, def.suite, dir, ...(mirror ? [mirror] : [])], {
      log: log.stream,
      progress: (l) => {
        const verb = /^I: (\S+)/.exec(l)?.[1];
        if (verb && !seen.has(verb)) {
          seen.add(verb);
          say(def.key, l.slice(3));
        }
      },
    });
    if (boot.code !== 0) return stepFailed(def, "debootstrap", boot, secs);
    for (const [rel, f] of Object.entries(def.files)) {
      const p = path.join(dir, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, f.content, { mode: f.mode });
      fs.chmodSync(p, f.mode);
    }
    for (const d of ["var/cache/apt/archives", "var/lib/apt/lists"]) {
      const p = path.join(dir, d);
      for (const e of fs.existsSync(p) ? fs.readdirSync(p) : []) if (e !== "partial" && e !== "lock") fs.rmSync(path.join(p, e), { recursive: true, force: true });
    }
    say(def.key, `docker import → ${def.tag}`);
    const tar = spawn("tar", ["-C", dir, "--numeric-owner", "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const changes = [...def.changes, `LABEL ${HASH_LABEL}=${hash}`].flatMap((c) => ["--change", c]);
    const imp = await run("docker", ["import", ...changes, "-", def.tag], { log: log.stream, stdin: tar.stdout });
    return await finishBuild(def, "docker import", imp, existing?.id, secs);
  } finally {
    log.stream.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every file under `rel` (a file or a directory) inside `context`, as context-relative paths. */
function filesUnder(context: string, rel: string): string[] {
  const abs = path.join(context, rel);
  const st = fs.lstatSync(abs);
  if (!st.isDirectory()) return [rel === "." ? path.basename(abs) : rel];
  const out: string[] = [];
  for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
    if (e.isDirectory() && SKIPPED_DIRS.has(e.name)) continue;
    const child = rel === "." ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...filesUnder(context, child));
    else out.push(child);
  }
  return out;
}

/** The context that holds every COPY source (the first candidate that does), and the files that go in. */
function contextFiles(def: BuiltImageDef, dockerfileText: string): { context: string; files: Record<string, string> } {
  const sources = copySources(def.dockerfile, dockerfileText);
  const exists = (ctx: string, src: string) => isPattern(src) || fs.existsSync(path.join(ROOT, ctx, src));
  const context = def.contexts.find((c) => sources.every((s) => exists(c, s)));
  if (context === undefined) {
    throw new ImagesError(
      `${def.dockerfile}: COPY/ADD sources ${sources.join(", ")} are not all in any build context; looked in ${def.contexts.map((c) => (c === "." ? "the repository root" : `${c}/`)).join(" and ")}`,
    );
  }
  const abs = path.join(ROOT, context);
  // A pattern: hash the whole context (more than goes in, never less).
  const roots = sources.some(isPattern) ? ["."] : sources;
  const rels = new Set<string>();
  for (const r of roots) for (const f of filesUnder(abs, r)) rels.add(f);
  if (fs.existsSync(path.join(abs, ".dockerignore"))) rels.add(".dockerignore");
  const files: Record<string, string> = {};
  for (const rel of [...rels].sort()) {
    const p = path.join(abs, rel);
    const st = fs.lstatSync(p);
    const content = st.isSymbolicLink() ? `symlink:${fs.readlinkSync(p)}` : fs.readFileSync(p);
    files[rel] = `${fileDigest(content)}:${(st.mode & 0o111) !== 0 ? "x" : "-"}`;
  }
  return { context, files };
}

async function buildImage(def: BuiltImageDef, rebuild: boolean, explicit: boolean): Promise<Outcome> {
  const start = Date.now();
  const secs = () => (Date.now() - start) / 1000;
  const dockerfilePath = path.join(ROOT, def.dockerfile);
  if (!fs.existsSync(dockerfilePath)) {
    const detail = `${def.dockerfile} does not exist (${def.purpose} is added by its own change), so ${def.tag} is not built`;
    say(def.key, `MISSING: ${detail}`);
    return { def, status: explicit || !def.optional ? "failed" : "missing", seconds: secs(), detail };
  }
  const text = fs.readFileSync(dockerfilePath, "utf8");
  const bases = localBasesOf(def.dockerfile, text);
  const baseIds: Record<string, string> = {};
  for (const b of bases) {
    const i = await inspect(b.tag);
    if (!i) return { def, status: "failed", seconds: secs(), detail: `its base ${b.tag} does not exist` };
    baseIds[b.tag] = i.id;
  }
  const { context, files } = contextFiles(def, text);
  const hash = builtHash(def, { dockerfile: text, context, files, baseIds });
  const existing = await inspect(def.tag);
  if (!rebuild && existing?.hash === hash) {
    say(def.key, `cached (${def.tag}, hash ${hash.slice(0, 12)})`);
    return { def, status: "cached", seconds: secs() };
  }
  const log = logFile(def.key);
  try {
    say(def.key, `docker build ${def.tag} from ${def.dockerfile} (context ${context === "." ? "the repository root" : `${context}/`}, ${Object.keys(files).length} files copied in); log: ${log.file}`);
    const r = await run("docker", ["build", "--label", `${HASH_LABEL}=${hash}`, "-t", def.tag, "-f", dockerfilePath, path.join(ROOT, context)], {
      log: log.stream,
      progress: (l) => {
        // Legacy builder: "Step 2/5 : RUN ..."; BuildKit: "#5 [2/3] RUN ...".
        const m = /^(Step \d+\/\d+ : .*)$/.exec(l) ?? /^#\d+ (\[[^\]]*\d+\/\d+\] .*)$/.exec(l);
        if (m) say(def.key, m[1].length > 110 ? `${m[1].slice(0, 107)}...` : m[1]);
      },
    });
    return await finishBuild(def, "docker build", r, existing?.id, secs);
  } finally {
    log.stream.end();
  }
}

async function main(names: string[], opts: { rebuild: boolean; mirror?: string; printConfig?: string; list: boolean }): Promise<number> {
  if (opts.printConfig !== undefined) {
    for (const c of configCommands(opts.printConfig)) console.log(c);
    return 0;
  }
  if (opts.list) {
    for (const d of IMAGES) console.log(`${d.key.padEnd(18)} ${d.tag.padEnd(42)} ${d.kind === "dockerfile" ? d.purpose : `debootstrap --variant=${d.variant} ${d.suite}`}`);
    return 0;
  }
  const info = await capture("docker", ["info", "--format", "{{.ServerVersion}}"]);
  if (info.code !== 0) {
    console.error("images: no Docker engine answers `docker info`; start one (as root: .ci/start-dockerd) or set DOCKER_HOST");
    return 1;
  }
  const order = buildOrder(names, (d) => (fs.existsSync(path.join(ROOT, d.dockerfile)) ? localBasesOf(d.dockerfile, fs.readFileSync(path.join(ROOT, d.dockerfile), "utf8")) : []));
  const mirror = opts.mirror ?? mirrorFromAptSources(aptSourceTexts());
  say("images", `${order.length} images: ${order.map((d) => d.key).join(", ")} (engine ${info.out})`);
  const outcomes: Outcome[] = [];
  // Bases in parallel (debootstrap is mostly download and unpack), then the rest one at a time.
  const bases = order.filter((d): d is BaseImageDef => d.kind === "debootstrap");
  outcomes.push(...(await Promise.all(bases.map((d) => buildBase(d, opts.rebuild, mirror)))));
  for (const d of order) {
    if (d.kind !== "dockerfile") continue;
    const failedBase = outcomes.find((o) => o.status === "failed" && o.def.kind === "debootstrap");
    if (failedBase) {
      outcomes.push({ def: d, status: "failed", seconds: 0, detail: `not built: base ${failedBase.def.tag} failed` });
      continue;
    }
    try {
      outcomes.push(await buildImage(d, opts.rebuild, names.includes(d.key)));
    } catch (e) {
      outcomes.push({ def: d, status: "failed", seconds: 0, detail: (e as Error).message });
    }
  }
  console.log("");
  console.log(`${"image".padEnd(18)} ${"tag".padEnd(42)} ${"status".padEnd(8)} seconds`);
  for (const o of outcomes) console.log(`${o.def.key.padEnd(18)} ${o.def.tag.padEnd(42)} ${o.status.padEnd(8)} ${o.seconds.toFixed(1)}`);
  console.log(`total ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  for (const o of outcomes) if (o.detail) console.log(`\n${o.def.key}: ${o.status}: ${o.detail}`);
  const failed = outcomes.filter((o) => o.status === "failed");
  if (failed.length === 0) console.log("\nPoint the dev stack at them: npm run images -- --print-config dev (docs/air-gapped.md)");
  return failed.length > 0 ? 1 : 0;
}

const cli = new Command("images")
  .description("build the local images (Debian packages, no registry) the stack runs on; see docs/air-gapped.md")
  .argument("[images...]", `images to build (default: all): ${IMAGES.map((d) => d.key).join(", ")}`)
  .option("--rebuild", "build even when the tagged image's hash label matches", false)
  .option("--mirror <url>", "Debian mirror for debootstrap (default: the machine's apt sources, else debootstrap's default)")
  .option("--print-config <stack>", "print the pulumi config set commands that point <stack> at the local images, and exit")
  .option("--list", "list the images and exit", false)
  .exitOverride()
  .action(async (names: string[], opts: { rebuild: boolean; mirror?: string; printConfig?: string; list: boolean }) => {
    try {
      process.exitCode = await main(names, opts);
    } catch (e) {
      console.error(`images: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  });

if (require.main === module) {
  cli.parseAsync(process.argv).catch((e: unknown) => {
    if (e instanceof CommanderError) process.exitCode = e.exitCode;
    else {
      console.error(`images: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  });
}
