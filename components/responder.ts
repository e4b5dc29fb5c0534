/**
 * The responder relay (`rollout responder`, cli/responder.ts; issue 25 part 2): one Swarm service on the
 * stack's network under RESPONDER_ALIAS, which Alertmanager's responder receiver posts critical alerts to.
 * Thin: the relay's logic is in core/responder.ts and cli/responder.ts.
 *
 * Secrets (issue 16's rule: none in a container's env, a label, an output or a preview):
 * - the GitHub token (valuecanvas:responder.githubToken) and the bearer token (generated here, a
 *   random.RandomPassword) are Docker secrets, mounted as 0400 files owned by the relay's user at the
 *   paths `rollout responder` reads by default (cli/rollout.ts RESPONDER_SECRET_FILES);
 * - `bearerToken` is a secret Output for the monitoring component, which uploads it as Alertmanager's
 *   credentials_file (0400); it is not registered as an output of this component.
 *
 * The image is the stack's `responder.image`: an image whose entrypoint is this project's `rollout` CLI
 * (this program does not build it).
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { ResponderConfig } from "../core/configSchema";
import { RESTART_POLICY, SECRET_FILE_MODE } from "../core/swarm";
import { containerLabels } from "../program/labels";

/** The relay's alias on the stack's network: Alertmanager's receiver URL names it. */
export const RESPONDER_ALIAS = "valuecanvas-responder";
/** The relay's user inside its image (owner of the secret files). */
export const RESPONDER_RUN_AS = { uid: "10002", gid: "10002" } as const;
/** The Docker secrets' file names under /run/secrets (cli/rollout.ts RESPONDER_SECRET_FILES reads them there). */
export const RESPONDER_SECRET_NAMES = { githubToken: "responder-github-token", bearerToken: "responder-bearer-token" } as const;

export interface ResponderArgs {
  config: Required<Pick<ResponderConfig, "image" | "repository">> & Omit<ResponderConfig, "image" | "repository">;
  stack: string;
  /** The stack's overlay network's id. */
  networkId: pulumi.Input<string>;
  /** The relay's GitHub token: a secret. */
  githubToken: pulumi.Output<string>;
}

export class Responder extends pulumi.ComponentResource {
  /** The webhook URL Alertmanager posts to, on the stack's network. */
  readonly url: string;
  /** The bearer token Alertmanager sends: a secret Output, for the monitoring component only. */
  readonly bearerToken: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: ResponderArgs, opts?: pulumi.ComponentResourceOptions) {
    super("valuecanvas:responder:Responder", name, {}, opts);
    const c = args.config;
    const token = new random.RandomPassword(`${name}-bearer-token`, { length: 48, special: false }, { parent: this });
    this.bearerToken = pulumi.secret(token.result);
    const secret = (n: string, value: pulumi.Output<string>) =>
      new docker.Secret(
        `${name}-${n}`,
        { data: pulumi.secret(value.apply((v) => Buffer.from(v, "utf8").toString("base64"))), labels: containerLabels("responder") },
        { parent: this, deleteBeforeReplace: false },
      );
    const file = (s: docker.Secret, fileName: string) => ({ secretId: s.id, secretName: s.name, fileName, fileUid: RESPONDER_RUN_AS.uid, fileGid: RESPONDER_RUN_AS.gid, fileMode: SECRET_FILE_MODE });
    const github = secret("github-token", args.githubToken);
    const bearer = secret("bearer-token", this.bearerToken);

    const service = new docker.Service(
      name,
      {
        labels: containerLabels("responder"),
        taskSpec: {
          containerSpec: {
            image: c.image,
            // Arguments only (no shell); no secret among them: the tokens are files.
            args: ["responder", "--stack", args.stack, "--repo", c.repository, "--base", c.base, "--api-url", c.githubApiUrl, "--listen", `0.0.0.0:${c.port}`],
            secrets: [file(github, RESPONDER_SECRET_NAMES.githubToken), file(bearer, RESPONDER_SECRET_NAMES.bearerToken)],
            user: `${RESPONDER_RUN_AS.uid}:${RESPONDER_RUN_AS.gid}`,
            labels: containerLabels("responder"),
            stopSignal: "SIGTERM",
            sysctl: {},
          },
          networksAdvanceds: [{ id: args.networkId, aliases: [RESPONDER_ALIAS] }],
          restartPolicy: { ...RESTART_POLICY },
        },
        // One replica: webhooks are handled one at a time, so one alert opens one pull request.
        mode: { replicated: { replicas: 1 } },
      },
      { parent: this, deleteBeforeReplace: false },
    );
    this.url = `http://${RESPONDER_ALIAS}:${c.port}/alerts`;
    this.serviceName = service.name;
    this.registerOutputs({ url: this.url, serviceName: this.serviceName });
  }
}
