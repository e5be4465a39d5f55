// The base of every umlab resource: a Pulumi dynamic resource whose provider is named, not
// serialized. `pulumi.dynamic.Resource` stores the provider's code in the state as closure-
// serialized text; that text `require`s umlab's dependencies from the lab's folder (which
// fails for a linked install: "Cannot find module 'zod'") and costs about a second per run.
// Here `__provider` is one line that loads the named provider from the umlab installed beside
// the program (provider/index.ts). The type token is the same as dynamic.Resource's, so state
// written either way is read either way.
import * as pulumi from "@pulumi/pulumi";
import type { ProviderName } from "../provider";

/** The `__provider` text for a named provider (what the dynamic-provider process evaluates). */
export function providerText(name: ProviderName): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`umlab: bad provider name ${name}`);
  return `exports.handler = () => require("umlab/provider").provider(${JSON.stringify(name)});\n`;
}

export abstract class UmlabResource extends pulumi.CustomResource {
  /** The name of the host it runs on (undefined: this machine). */
  readonly umlabHostName?: string;
  /** The host it runs on, as given (undefined: this machine): Exec and Checks of a guest run there. */
  readonly umlabPlacedOn?: unknown;

  constructor(
    provider: ProviderName,
    name: string,
    props: pulumi.Inputs,
    opts: pulumi.CustomResourceOptions | undefined,
    module: "umlab",
    type: string,
  ) {
    const host = props.host === undefined ? hostOf(opts) : undefined;
    super(
      `pulumi-nodejs:dynamic/${module}:${type}`,
      name,
      { ...props, ...(host ? { host } : {}), __provider: providerText(provider) },
      opts,
    );
    const placed = (props.host ?? host) as { name?: string } | undefined;
    this.umlabHostName = placed?.name;
    this.umlabPlacedOn = placed;
  }
}

/**
 * Refuse a reference from a component on one host to a component on another (a guest's NIC
 * on a switch elsewhere would name a socket that is not on its host): join hosts with a HostLink.
 */
export function sameHostOrThrow(
  kind: string,
  name: string,
  lab: { host?: { name: string } },
  other: unknown,
  what: string,
): void {
  if (!(other instanceof UmlabResource)) return;
  const here = lab.host?.name;
  if (other.umlabHostName !== here)
    throw new Error(
      `umlab ${kind} "${name}": ${what} runs on ${other.umlabHostName ? `host "${other.umlabHostName}"` : "this machine"}, ` +
        `the ${kind.toLowerCase()} on ${here ? `host "${here}"` : "this machine"}: use one on the same host, ` +
        "and join switches of two hosts with a HostLink",
    );
}

/**
 * The host a lab component runs on: its lab's runtime (which every lab component depends on,
 * sdk/lab.ts resourceOptions) says. Undefined: this machine, and the props stay as they were.
 */
function hostOf(opts: pulumi.CustomResourceOptions | undefined): unknown {
  const deps = opts?.dependsOn;
  for (const d of Array.isArray(deps) ? deps : deps ? [deps] : []) {
    const h = (d as { umlabHost?: unknown } | undefined)?.umlabHost;
    if (h !== undefined) return h;
  }
  return undefined;
}
