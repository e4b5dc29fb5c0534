/**
 * Entry point: `node reference-app/src/main.js` (compiled; see build.ts).
 * Exit codes: 0 stopped cleanly; 1 failed, or had to cut requests short at
 * the deadline; 2 invalid configuration.
 */
import * as fs from "node:fs";
import { ConfigError, parseConfig } from "./config";
import { EXIT_DEADLINE_MS } from "./contract";
import { ReferenceApp, jsonLogger } from "./server";

function main(): void {
  let app: ReferenceApp;
  try {
    app = new ReferenceApp(
      parseConfig(process.env, (p) => fs.readFileSync(p, "utf8")),
      jsonLogger,
    );
  } catch (err) {
    if (err instanceof ConfigError) {
      jsonLogger("error", err.message, { problems: err.problems });
      process.exit(2);
    }
    throw err;
  }

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    jsonLogger("info", "signal received", { signal });
    setTimeout(() => {
      jsonLogger("error", "exit deadline reached: exiting now", { deadlineMs: EXIT_DEADLINE_MS });
      process.exit(1);
    }, EXIT_DEADLINE_MS).unref();
    app.stop().then(
      (code) => process.exit(code),
      (err: Error) => {
        jsonLogger("error", "stop failed", { error: err.message });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  app.start().catch((err: Error) => {
    jsonLogger("error", "start failed", { error: err.message });
    process.exit(1);
  });
}

main();
