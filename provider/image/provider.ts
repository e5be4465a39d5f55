// Image: a root filesystem backing file (ext4) that carries the guest side of the contract
// (docs/guest-contract.md). Images live in a content-addressed cache shared by all stacks:
// the same inputs give the same file, built once, never rewritten in place (COW disks
// depend on their backing file staying byte-identical).
//
// The dynamic provider's handlers. The rest of the image lives beside this file: plan.ts
// (pure), host.ts (what it reads from the host, the cache key), build.ts (building),
// cache.ts (the cache); its schema and change policy in core/schemas/image.ts.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { defineProvider } from "../core/define";
import { hasUnknown } from "../core/diff";
import { UNKNOWN } from "../core/unknown";
import {
  IMAGE_ARG_KEYS,
  imageArgsSchema,
  imagePolicy,
  pickImageArgs,
  type ImageArgsInput,
} from "../core/schemas/image";
import { diffImageInputs, defaultGuestMemory, type ImageOutputs } from "./plan";
import { hostKernelVersion, planImage, resolveSpec, validateImageArgs } from "./host";
import { buildImage } from "./build";
import { mergeCow } from "./merge";
import { same } from "../core/diff";

// Callers outside provider/image/ (integration tests, benches) import these from here.
export { buildImage, type ImageLog } from "./build";
export { resolveSpec } from "./host";
export { pruneImages, sha256File } from "./cache";
export type { ImageOutputs } from "./plan";

/**
 * Progress from inside the dynamic provider. In @pulumi/pulumi 3.248 the provider process is
 * not connected to the engine's log service (PULUMI_NODEJS_ENGINE is unset there), so
 * `pulumi.log.info` falls back to console.log; the engine relays each line a plugin prints
 * to the CLI as an info diagnostic. Printing one line per step is therefore what shows.
 */
function providerLog(message: string): void {
  if (pulumi.runtime.hasEngine()) void pulumi.log.info(`umlab image: ${message}`);
  else console.log(`umlab image: ${message}`);
}

type ImageState = ImageArgsInput & ImageOutputs & { guestMemory: string };

/**
 * `fromCow`: the COW disk merged with its backing into a new cache image (merge.ts), once,
 * at create. Refused while the COW's guest runs. The runtime roots searched for that guest:
 * the COW's own (`<root>/<lab>/disk/<name>.cow`) and $UMLAB_RUNTIME.
 */
async function mergedImage(spec: ReturnType<typeof resolveSpec>): Promise<ImageOutputs> {
  const cow = spec.source!;
  const roots = [path.dirname(path.dirname(path.dirname(cow)))];
  if (process.env.UMLAB_RUNTIME) roots.push(process.env.UMLAB_RUNTIME);
  const r = await mergeCow({ cow, backing: spec.backing, cacheDir: spec.cacheDir, roots, log: providerLog });
  const { path: p, sizeBytes, allocatedBytes, sha256, key } = r;
  return { path: p, sizeBytes, allocatedBytes, sha256, key, kernelVersion: await hostKernelVersion() };
}

const skeleton = defineProvider<ImageArgsInput, ImageState>({
  schema: imageArgsSchema,
  policy: imagePolicy,

  async create(inputs) {
    const spec = resolveSpec(inputs);
    const out = spec.kind === "cow" ? await mergedImage(spec) : await buildImage(spec, providerLog);
    return {
      id: out.key,
      outs: { ...pickImageArgs(inputs), ...out, guestMemory: defaultGuestMemory(spec) },
    };
  },

  read(props) {
    // Refresh: a pruned image is gone (the next `up` rebuilds it).
    if (!props?.path || !fs.existsSync(props.path)) return undefined;
    const st = fs.statSync(props.path);
    const guestMemory = props.guestMemory ?? defaultGuestMemory(resolveSpec(props)); // older states
    return { ...props, sizeBytes: st.size, allocatedBytes: st.blocks * 512, guestMemory };
  },

  // The cache is shared between stacks (same inputs, same file): deleting the resource
  // leaves the file. Use pruneImages() to reclaim space.
  async delete() {},
});

/**
 * The skeleton's create/read/delete, with the Image's own check and diff: its failures name
 * the field in the reason (and name unknown fields), and its plan derives the cache key from
 * the host (the UML kernel, the dir or tarball content), which is asynchronous.
 */
export const imageProvider: pulumi.dynamic.ResourceProvider = {
  ...skeleton,

  async check(olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
    // A merged image outlives its COW disk: once made, its source need not exist any more.
    const made = news?.fromCow !== undefined && same(olds?.fromCow, news.fromCow);
    const failures = validateImageArgs(news).filter((f) => !(made && f.property === "fromCow"));
    if (failures.length) return { inputs: news, failures };
    // Values unknown during a preview stay unknown: the diff then cannot plan the key.
    const inputs: Record<string, any> = {};
    for (const k of IMAGE_ARG_KEYS) if (news[k] !== undefined && news[k] !== null) inputs[k] = news[k];
    return { inputs };
  },

  async diff(_id: string, olds: any, news: any): Promise<pulumi.dynamic.DiffResult> {
    // The key makes a changed dir/tarball content, init script, kernel or builder a diff
    // even with equal args. While an input is unknown it is decided at `up`.
    // A merged image's key is its bytes when it was merged: only its args can replace it.
    const unknown = hasUnknown(news);
    const key =
      news.fromCow !== undefined ? olds.key : unknown ? UNKNOWN : (await planImage(resolveSpec(news))).key;
    const replaces = diffImageInputs(olds, { ...pickImageArgs(news), key });
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
};
