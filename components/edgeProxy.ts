/**
 * The edge proxy: the only container with a published port. It routes to the
 * app alias and retries another replica when one goes away (core/proxyConfig.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { PROXY_HEALTH_PATH, PROXY_LISTEN_PORT, renderNginxConfig } from "../core/proxyConfig";
import { httpHealthCheckTest } from "../core/healthCheck";
import { containerLabels } from "../program/labels";

export interface EdgeProxyArgs {
  image: string;
  networkName: pulumi.Input<string>;
  appAlias: string;
  appPort: number;
  /** Host port and address the proxy publishes. */
  publishPort: number;
  bindAddress: string;
}

export class EdgeProxy extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly nginxConfig: string;

  constructor(name: string, args: EdgeProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("valuecanvas:proxy:EdgeProxy", name, {}, opts);
    this.nginxConfig = renderNginxConfig({
      appAlias: args.appAlias,
      appPort: args.appPort,
      listenPort: PROXY_LISTEN_PORT,
      selfHealthPath: PROXY_HEALTH_PATH,
    });
    const image = new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { parent: this });
    new docker.Container(
      name,
      {
        image: image.imageId,
        ports: [{ internal: PROXY_LISTEN_PORT, external: args.publishPort, ip: args.bindAddress }],
        uploads: [{ file: "/etc/nginx/nginx.conf", content: this.nginxConfig }],
        networksAdvanced: [{ name: args.networkName }],
        labels: containerLabels("edge-proxy"),
        healthcheck: {
          // The nginx image has BusyBox wget; exec form, no shell.
          tests: httpHealthCheckTest("wget", PROXY_LISTEN_PORT, PROXY_HEALTH_PATH),
          interval: "10s",
          timeout: "3s",
          retries: 3,
        },
        wait: true,
        waitTimeout: 60,
        restart: "unless-stopped",
      },
      // The published port can belong to one container at a time; the proxy changes
      // only when its own config or image does, never on a stage change.
      { parent: this, deleteBeforeReplace: true },
    );
    this.url = pulumi.output(`http://${args.bindAddress === "0.0.0.0" ? "localhost" : args.bindAddress}:${args.publishPort}`);
    this.registerOutputs({ url: this.url });
  }
}
