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
  constructor(
    provider: ProviderName,
    name: string,
    props: pulumi.Inputs,
    opts: pulumi.CustomResourceOptions | undefined,
    module: "umlab",
    type: string,
  ) {
    super(
      `pulumi-nodejs:dynamic/${module}:${type}`,
      name,
      { ...props, __provider: providerText(provider) },
      opts,
    );
  }
}
