/**
 * A real browser for tests: Debian's chromium, driven by playwright-core (no
 * browser download), headless, in a fresh profile, with every network request
 * refused. Also the real Mermaid parser: `mermaid.parse` needs a DOM, so the
 * mermaid package's browser bundle runs in a blank page of that browser.
 *
 * Where chromium is missing the suite is skipped with the install command;
 * under CI=true that is a failure.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BrowserContext, Page, chromium } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const CHROMIUM_INSTALL = "apt-get install -y chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

const MERMAID_BUNDLE = path.join(path.dirname(require.resolve("mermaid/package.json")), "dist", "mermaid.min.js");

export function chromiumAvailable(): boolean {
  try {
    fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** In a mocha `before`: skip the suite (with the install command) when chromium is missing; under CI=true, throw. */
export function requireChromium(ctx: Mocha.Context): void {
  if (chromiumAvailable()) return;
  const msg = `missing ${CHROMIUM_PATH}; install with: ${CHROMIUM_INSTALL}`;
  if (process.env.CI === "true") throw new Error(`${msg} (CI=true: a missing tool is a failure)`);
  console.warn(`      skipped: ${msg}`);
  ctx.skip();
}

export interface Browser {
  context: BrowserContext;
  /** URLs the pages tried to fetch besides file:// and about:blank (all refused). */
  blockedRequests: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Launch chromium in a fresh, temporary profile; every non-file request is aborted and recorded. */
export async function launchBrowser(): Promise<Browser> {
  if (!chromiumAvailable()) throw new Error(`missing ${CHROMIUM_PATH}; install with: ${CHROMIUM_INSTALL}`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "chromium-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1280, height: 900 },
  });
  const blockedRequests: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file://") || url === "about:blank") return route.continue();
    blockedRequests.push(url);
    return route.abort();
  });
  return {
    context,
    blockedRequests,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

let shared: Promise<Browser> | undefined;

/** One browser for the whole test run, launched on first use; closeSharedBrowser() ends it. */
export function sharedBrowser(): Promise<Browser> {
  shared ??= launchBrowser();
  return shared;
}

export async function closeSharedBrowser(): Promise<void> {
  const b = shared;
  shared = undefined;
  if (b) await (await b).close();
}

/** The text inside each ```mermaid fence of a Markdown text (the README's and docs/' diagrams). */
export function mermaidBlocks(md: string): string[] {
  return [...md.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

export type MermaidResult = { ok: true; diagramType: string } | { ok: false; error: string };

/**
 * Parse a Mermaid diagram (the text inside a ```mermaid fence) with the real
 * Mermaid parser, in a blank page of the shared browser.
 */
export async function validateMermaid(text: string): Promise<MermaidResult> {
  const browser = await sharedBrowser();
  const page = await browser.newPage();
  try {
    await page.setContent("<!DOCTYPE html><html><body></body></html>");
    await page.addScriptTag({ path: MERMAID_BUNDLE });
    return await page.evaluate(async (source: string): Promise<MermaidResult> => {
      const m = (globalThis as unknown as { mermaid: { initialize(c: object): void; parse(t: string): Promise<{ diagramType: string }> } }).mermaid;
      m.initialize({ startOnLoad: false });
      try {
        const r = await m.parse(source);
        return { ok: true, diagramType: r.diagramType };
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }, text);
  } finally {
    await page.close();
  }
}
