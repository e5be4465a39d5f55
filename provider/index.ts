// Every provider by a stable name, loaded on first use. This module is what each resource's
// `__provider` in the Pulumi state points at (sdk/resource.ts): the dynamic-provider process
// runs `require("umlab/provider").provider("<name>")`, so it runs the umlab installed beside
// the lab program (with its own dependencies), wherever that is, and loads only the one
// component it serves. The names are a contract with every state ever written: never rename
// one; add new names.
import type * as pulumi from "@pulumi/pulumi";

type Provider = pulumi.dynamic.ResourceProvider;

const PROVIDERS = {
  labRuntimeProvider: () => require("./lab/runtime").labRuntimeProvider,
  imageProvider: () => require("./image/provider").imageProvider,
  switchProvider: () => require("./net/switch").switchProvider,
  cowDiskProvider: () => require("./disk/cowdisk").cowDiskProvider,
  guestProvider: () => require("./guest/provider").guestProvider,
  tapProvider: () => require("./net/tap").tapProvider,
  captureProvider: () => require("./net/capture").captureProvider,
  serialCableProvider: () => require("./net/serial").serialCableProvider,
  impairmentProvider: () => require("./net/impairment").impairmentProvider,
  execProvider: () => require("./exec/provider").execProvider,
  checksProvider: () => require("./exec/checks").checksProvider,
  snapshotProvider: () => require("./lab/snapshot-resource").snapshotProvider,
  sharedDiskProvider: () => require("./disk/shareddisk").sharedDiskProvider,
  hostLinkProvider: () => require("./net/hostlink").hostLinkProvider,
  tunnelEndProvider: () => require("./net/tunnel").tunnelEndProvider,
} satisfies Record<string, () => Provider>;

export type ProviderName = keyof typeof PROVIDERS;

export const PROVIDER_NAMES = Object.keys(PROVIDERS) as ProviderName[];

/** The provider registered under `name`; inputs with a `host` run on that host (host/remote-provider.ts). */
export function provider(name: string): Provider {
  return require("./host/remote-provider").remoteCapable(name, localProvider(name));
}

/** The component's own provider, run here (what provider/remote-main.ts runs on a host). */
export function localProvider(name: string): Provider {
  const load = (PROVIDERS as Record<string, () => Provider>)[name];
  if (!load)
    throw new Error(
      `umlab: this umlab has no provider "${name}" (the state was written by another umlab version: install that one, or a newer umlab)`,
    );
  return load();
}
