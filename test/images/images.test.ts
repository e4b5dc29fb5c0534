/**
 * The local image list and cache keys (tools/images.ts): every image the stack
 * runs has a local stand-in built FROM a local base only, each cache key moves
 * with everything that goes into the image and with nothing else, and the
 * documented config step is exactly what `npm run images -- --print-config dev`
 * prints and what the config schema accepts.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { checkPulumiConfigSet, extractCommands, parsePulumiConfigSet } from "../../tools/docCommands";
import {
  BOOKWORM,
  BuildInputs,
  BuiltImageDef,
  IMAGES,
  ImagesError,
  TRIXIE,
  baseHash,
  buildOrder,
  builtHash,
  configCommands,
  copySources,
  imageByKey,
  localBasesOf,
  mirrorFromAptSources,
} from "../../tools/images";
import { configKeyDocs } from "../../core/configIntrospect";
import { finishBuild, stepFailed } from "../../cli/images";

const ROOT = path.resolve(__dirname, "../..");
const built = IMAGES.filter((d): d is BuiltImageDef => d.kind === "dockerfile");
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");

describe("local images: the list", () => {
  it("the bases are exactly the two debootstrap roots the other Dockerfiles name", () => {
    assert.equal(BOOKWORM.tag, "valuecanvas-local/debian:bookworm");
    assert.equal(TRIXIE.tag, "valuecanvas-local/debian:trixie");
    assert.deepEqual([BOOKWORM.variant, TRIXIE.variant], ["minbase", "minbase"]);
  });

  it("tags and keys are unique, and every tag is a stable tag (no digest, no latest)", () => {
    assert.equal(new Set(IMAGES.map((d) => d.tag)).size, IMAGES.length);
    assert.equal(new Set(IMAGES.map((d) => d.key)).size, IMAGES.length);
    for (const d of IMAGES) assert.match(d.tag, /^valuecanvas-local\/[a-z-]+:[a-z0-9]+$/, d.tag);
  });

  it("every image key of the stack config has a local image, and each set line is accepted by the schema", () => {
    const imageKeys = configKeyDocs()
      .map((d) => d.path)
      .filter((k) => /Image$/.test(k))
      .sort();
    assert.ok(imageKeys.length >= 6, imageKeys.join(","));
    assert.deepEqual(built.flatMap((d) => (d.configKey ? [d.configKey] : [])).sort(), imageKeys);
    // The only images without a config key are the reference app's bad releases, which tests release on purpose,
    // and the multi-node harness's Swarm node (test/support/multiNode.ts), which no stack runs.
    assert.deepEqual(built.filter((d) => !d.configKey).map((d) => d.key), ["reference-app-bad", "reference-app-dies", "swarm-node"]);
    for (const line of configCommands("dev")) {
      const [c] = extractCommands("x.md", "```bash\n" + line + "\n```\n");
      assert.equal(checkPulumiConfigSet(parsePulumiConfigSet(c.args), ROOT), undefined, line);
    }
  });

  it("every Dockerfile in the repository builds FROM local images only, and copies only files that exist", () => {
    for (const d of built) {
      if (!fs.existsSync(path.join(ROOT, d.dockerfile))) {
        assert.ok(d.optional, `${d.dockerfile} is missing and not optional`);
        continue;
      }
      const text = read(d.dockerfile);
      const bases = localBasesOf(d.dockerfile, text);
      assert.ok(bases.length > 0);
      const sources = copySources(d.dockerfile, text);
      assert.ok(
        d.contexts.some((ctx) => sources.every((s) => fs.existsSync(path.join(ROOT, ctx, s)))),
        `${d.dockerfile}: ${sources.join(", ")} not in ${d.contexts.join(" or ")}`,
      );
    }
    assert.deepEqual(localBasesOf("images/postgres/Dockerfile", read("images/postgres/Dockerfile")).map((b) => b.tag), [BOOKWORM.tag]);
  });

  it("a FROM that would need a registry is refused, naming the file, line, image and what is allowed", () => {
    assert.throws(
      () => localBasesOf("x/Dockerfile", "# c\nFROM node:20-bookworm\nRUN true\n"),
      (e: unknown) =>
        e instanceof ImagesError &&
        /x\/Dockerfile:2: FROM "node:20-bookworm" is not a local image; allowed: valuecanvas-local\/debian:bookworm, valuecanvas-local\/debian:trixie/.test(e.message),
    );
    assert.throws(() => localBasesOf("x/Dockerfile", "RUN true\n"), /no FROM instruction/);
    // A later stage FROM an earlier one is fine; the earlier one still must be local.
    const multi = "FROM valuecanvas-local/debian:trixie AS build\nRUN make\nFROM build\nCOPY --from=build /out /out\n";
    assert.deepEqual(localBasesOf("m", multi).map((b) => b.tag), [TRIXIE.tag]);
    assert.throws(() => localBasesOf("m", "FROM busybox AS build\nFROM build\n"), /FROM "busybox" is not a local image/);
  });

  it("COPY/ADD sources: every form, --chown/--chmod flags, continuation lines; --from copies are not context files; remote sources refused", () => {
    const text = [
      "FROM valuecanvas-local/debian:trixie",
      "COPY --chown=node:node package.json package-lock.json /app/",
      'COPY ["src/", "./lib/x.ts", "/app/src/"]',
      "ADD --chmod=755 \\",
      "    bin/run.sh /usr/local/bin/",
      "COPY --from=build /out /out",
      "COPY . /app",
    ].join("\n");
    assert.deepEqual(copySources("d", text), ["package.json", "package-lock.json", "src", "lib/x.ts", "bin/run.sh", "."]);
    assert.throws(() => copySources("d", "FROM x\nADD https://example.invalid/x.tgz /x\n"), /d:2: ADD https:\/\/example\.invalid\/x\.tgz: a remote source cannot be part of the cache key/);
  });

  it("build order: the named images and their bases, bases first; an unknown name is refused with the allowed names", () => {
    const basesOf = (d: BuiltImageDef) => (d.key === "reference-app" ? [TRIXIE] : [BOOKWORM]);
    assert.deepEqual(buildOrder(["postgres", "nginx"], basesOf).map((d) => d.key), ["debian-bookworm", "postgres", "nginx"]);
    assert.deepEqual(buildOrder(["reference-app"], basesOf).map((d) => d.key), ["debian-trixie", "reference-app"]);
    const all = buildOrder([], basesOf).map((d) => d.key);
    assert.deepEqual(all.slice(0, 2), ["debian-bookworm", "debian-trixie"]);
    assert.equal(all.length, IMAGES.length);
    assert.throws(() => buildOrder(["redis"], basesOf), /image "redis" is not one of the images: allowed debian-bookworm, debian-trixie, nginx/);
  });
});

describe("local images: cache keys", () => {
  const def = imageByKey("postgres") as BuiltImageDef;
  const inputs: BuildInputs = {
    dockerfile: "FROM valuecanvas-local/debian:bookworm\nCOPY a.sh /a.sh\n",
    context: "images/postgres",
    files: { "a.sh": "1111:x", "package-lock.json": "2222:-" },
    baseIds: { "valuecanvas-local/debian:bookworm": "sha256:aaaa" },
  };
  const h = builtHash(def, inputs);

  it("moves with every input: the Dockerfile, any file's content or mode, a lockfile, an added file, the base's exact image, the context", () => {
    const variants: Array<[string, BuildInputs]> = [
      ["Dockerfile", { ...inputs, dockerfile: inputs.dockerfile + "RUN true\n" }],
      ["file content", { ...inputs, files: { ...inputs.files, "a.sh": "9999:x" } }],
      ["file mode", { ...inputs, files: { ...inputs.files, "a.sh": "1111:-" } }],
      ["lockfile", { ...inputs, files: { ...inputs.files, "package-lock.json": "3333:-" } }],
      ["added file", { ...inputs, files: { ...inputs.files, "b.txt": "4444:-" } }],
      ["removed file", { ...inputs, files: { "a.sh": "1111:x" } }],
      ["base image", { ...inputs, baseIds: { "valuecanvas-local/debian:bookworm": "sha256:bbbb" } }],
      ["context", { ...inputs, context: "." }],
    ];
    const seen = new Set([h]);
    for (const [what, v] of variants) {
      const x = builtHash(def, v);
      assert.ok(!seen.has(x), `the hash did not move with the ${what}`);
      seen.add(x);
    }
    assert.notEqual(builtHash(imageByKey("nginx") as BuiltImageDef, inputs), h, "two images never share a key");
  });

  it("does not move with anything else (the order files are listed in)", () => {
    const reordered = { ...inputs, files: { "package-lock.json": "2222:-", "a.sh": "1111:x" } };
    assert.equal(builtHash(def, reordered), h);
    assert.equal(builtHash(def, structuredClone(inputs)), h);
  });

  it("a base's key is its whole definition: suite, variant, import changes and the files written into the root", () => {
    assert.notEqual(baseHash(BOOKWORM), baseHash(TRIXIE));
    assert.notEqual(baseHash({ ...BOOKWORM, changes: [...BOOKWORM.changes, "ENV X=1"] }), baseHash(BOOKWORM));
    assert.notEqual(baseHash({ ...BOOKWORM, files: {} }), baseHash(BOOKWORM));
    assert.equal(baseHash(structuredClone(BOOKWORM)), baseHash(BOOKWORM));
  });
});

describe("local images: the Debian mirror comes from the machine's apt sources", () => {
  it("deb822: the first enabled archive entry with main, not security or updates", () => {
    const sources = [
      "Types: deb\nURIs: http://mirror.example.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n",
      "Types: deb\nURIs: http://off.example.invalid/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n",
      "Types: deb-src\nURIs: http://src.example.invalid/debian\nSuites: bookworm\nComponents: main\n",
      "Types: deb\nURIs: http://mirror.example.invalid/debian/\nSuites: bookworm bookworm-updates\nComponents: main contrib\n",
    ].join("\n");
    assert.equal(mirrorFromAptSources([sources]), "http://mirror.example.invalid/debian");
  });

  it("one-line lists, with options; a non-Debian list without main is skipped; nothing found leaves debootstrap's default", () => {
    assert.equal(
      mirrorFromAptSources(["deb https://tools.example.invalid/apt stable tools\n", "# x\ndeb [arch=amd64] http://local.example.invalid/debian bookworm main\n"]),
      "http://local.example.invalid/debian",
    );
    assert.equal(mirrorFromAptSources(["deb http://sec.example.invalid/debian-security bookworm-security main\n"]), undefined);
    // Another distribution's archive (an Ubuntu runner's) is not a Debian mirror.
    assert.equal(mirrorFromAptSources(["Types: deb\nURIs: http://ubuntu.example.invalid/ubuntu\nSuites: noble noble-updates\nComponents: main universe\n"]), undefined);
    assert.equal(mirrorFromAptSources([]), undefined);
  });
});

describe("docs/air-gapped.md", () => {
  it("its config step is exactly what npm run images -- --print-config dev prints", () => {
    const doc = read("docs/air-gapped.md");
    for (const line of configCommands("dev")) assert.ok(doc.includes(line), `docs/air-gapped.md lacks: ${line}`);
    assert.match(doc, /npm run images -- --print-config dev/);
  });
});

describe("npm run images: how a build ends (cli/images.ts, shared by the debootstrap bases and the Dockerfile images)", () => {
  const def = IMAGES[0];
  const secs = () => 12.5;

  it("a failed step is reported with its exit code and last lines, for debootstrap, docker import and docker build alike", async () => {
    const r = { code: 3, tail: ["E: one", "E: two"] };
    for (const step of ["debootstrap", "docker import", "docker build"]) {
      const want = { def, status: "failed", seconds: 12.5, detail: `${step} exited 3:\nE: one\nE: two` };
      assert.deepEqual(stepFailed(def, step, r, secs), want);
      if (step !== "debootstrap") assert.deepEqual(await finishBuild(def, step, r, "sha256:previous", secs), want);
    }
  });

  it("a last step that succeeded ends the build as built and says so (no previous image: nothing to remove)", async () => {
    let said = "";
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => ((said += s), true)) as typeof process.stdout.write;
    try {
      for (const step of ["docker import", "docker build"]) assert.deepEqual(await finishBuild(def, step, { code: 0, tail: [] }, undefined, secs), { def, status: "built", seconds: 12.5 });
    } finally {
      process.stdout.write = write;
    }
    assert.equal(said.match(new RegExp(`${def.key} +built in 13s`, "g"))?.length, 2, said);
  });
});
