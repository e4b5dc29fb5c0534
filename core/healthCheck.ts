/**
 * Docker health checks as argument vectors (`["CMD", program, ...args]`),
 * never `CMD-SHELL`: no shell ever reads a value that came from config.
 * Pure.
 *
 * The app image's contract: it has `wget` (BusyBox or GNU) or `curl` on its
 * PATH, and `valuecanvas:appHealthCheckProbe` says which. The probe gets the
 * URL as one argument and exits non-zero when nothing answers, on a timeout
 * and on an HTTP error status (wget does so by default; curl with `-f`).
 */
import { HEALTH_CHECK_PATH_RE, HEALTH_CHECK_PROBES } from "./configSchema";

export type HealthCheckProbe = (typeof HEALTH_CHECK_PROBES)[number];

/** Seconds the probe waits for an answer (Docker's own `timeout` is the outer bound). */
export const PROBE_TIMEOUT_SECONDS = 2;

/** The argv of an HTTP probe of `http://127.0.0.1:<port><path>` inside the container. */
export function httpProbeArgv(probe: HealthCheckProbe, port: number, path: string): string[] {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`health check port ${port}: expected a TCP port from 1 to 65535`);
  if (!HEALTH_CHECK_PATH_RE.test(path)) throw new Error(`health check path ${JSON.stringify(path)}: expected "/" then letters, digits, . _ ~ / - or %XX escapes`);
  const url = `http://127.0.0.1:${port}${path}`;
  const t = String(PROBE_TIMEOUT_SECONDS);
  switch (probe) {
    case "wget":
      return ["wget", "-q", "-T", t, "-O", "/dev/null", url];
    case "curl":
      return ["curl", "-fsS", "--max-time", t, "-o", "/dev/null", url];
  }
}

/** A Docker health check `test` that runs the HTTP probe (exec form: no shell). */
export function httpHealthCheckTest(probe: HealthCheckProbe, port: number, path: string): string[] {
  return ["CMD", ...httpProbeArgv(probe, port, path)];
}

/** A Docker health check `test` that runs `argv` as is (exec form). */
export function execHealthCheckTest(argv: readonly string[]): string[] {
  return ["CMD", ...argv];
}
