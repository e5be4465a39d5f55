// Pure planning for images: the spec from validated args, the cache key, module closures,
// the host's Debian suite and mirror from file texts, sizing, what a failed bootstrap means.
// No I/O: host.ts reads the host, build.ts and cache.ts act on it.
import * as crypto from "crypto";
import * as path from "path";
import { SUITE_RE, imagePolicy, type ImageArgsInput } from "../core/schemas/image";
import { planFromPolicy } from "../core/diff";

/** Bumped whenever the way images are built changes their bytes. Part of the cache key. */
export const BUILDER_VERSION = "1";

/** Modules a busybox image carries by default (plus what they depend on). */
export const DEFAULT_BUSYBOX_MODULES = [
  "8021q",
  "bonding",
  "bridge",
  "dummy",
  "ipv6",
  "sch_netem",
  "softdog",
  "veth",
];

/** Debian packages every Debian image gets: the contract init needs them. */
export const DEBIAN_BASE_PACKAGES = ["iproute2", "kmod", "procps"];

/** A validated, normalized image spec: everything that decides the bytes, nothing else. */
export interface ImageSpec {
  kind: "busybox" | "debian" | "dir" | "tarball" | "cow";
  /** dir or tarball path; the COW file for "cow" */
  source?: string;
  /** "cow": the backing file (default: the one the COW header names). */
  backing?: string;
  suite?: string;
  mirror?: string;
  /** Debian: base packages + requested, sorted and unique. */
  packages: string[];
  /** busybox/dir/tarball: requested kernel modules (without dependencies), sorted. */
  modules: string[];
  sizeMb?: number;
  cacheDir: string;
}

/** Facts read from the host that also decide the bytes. */
export interface HostFacts {
  kernelVersion: string;
  initSha256: string;
  /** Content hash of the user's dir or tarball. */
  sourceHash?: string;
}

export interface ImageOutputs {
  path: string;
  sizeBytes: number;
  allocatedBytes: number;
  sha256: string;
  kernelVersion: string;
  key: string;
}

/** The cache folder when none is given: $UMLAB_CACHE, else ~/.cache/umlab. */
export function defaultCacheDir(env: NodeJS.ProcessEnv, homedir: string): string {
  return env.UMLAB_CACHE ?? path.join(homedir, ".cache", "umlab");
}

/** Turn validated args into a spec: defaults from the host (suite, mirror, cache dir). */
export function normalizeSpec(
  args: ImageArgsInput,
  host: { env: NodeJS.ProcessEnv; homedir: string; hostSuite?: string; hostMirror?: string },
): ImageSpec {
  const cacheDir = args.cacheDir ?? defaultCacheDir(host.env, host.homedir);
  const uniqSorted = (xs: string[]) => [...new Set(xs)].sort();
  const common = { sizeMb: args.sizeMb, cacheDir };
  if (args.fromCow !== undefined) {
    return {
      kind: "cow",
      source: path.resolve(args.fromCow.path),
      ...(args.fromCow.backing !== undefined ? { backing: path.resolve(args.fromCow.backing) } : {}),
      packages: [],
      modules: [],
      cacheDir,
    };
  }
  if (args.dir !== undefined || args.tarball !== undefined) {
    return {
      kind: args.dir !== undefined ? "dir" : "tarball",
      source: path.resolve((args.dir ?? args.tarball)!),
      packages: [],
      modules: uniqSorted(args.modules ?? []),
      ...common,
    };
  }
  if (args.preset === "debian") {
    return {
      kind: "debian",
      suite: args.suite ?? host.hostSuite ?? "bookworm",
      mirror: (args.mirror ?? host.hostMirror ?? "http://deb.debian.org/debian").replace(/\/+$/, ""),
      packages: uniqSorted([...DEBIAN_BASE_PACKAGES, ...(args.packages ?? [])]),
      modules: [],
      ...common,
    };
  }
  return {
    kind: "busybox",
    packages: [],
    modules: uniqSorted(args.modules ?? DEFAULT_BUSYBOX_MODULES),
    ...common,
  };
}

/** The cache key: sha256 over every input that affects the image's bytes (not the cache dir). */
export function imageKey(spec: ImageSpec, facts: HostFacts): string {
  const material = {
    builder: BUILDER_VERSION,
    kind: spec.kind,
    suite: spec.suite ?? null,
    mirror: spec.mirror ?? null,
    packages: [...spec.packages].sort(),
    modules: [...spec.modules].sort(),
    sizeMb: spec.sizeMb ?? null,
    init: facts.initSha256,
    kernel: facts.kernelVersion,
    source: facts.sourceHash ?? null,
  };
  return crypto.createHash("sha256").update(JSON.stringify(material)).digest("hex");
}

export function imagePath(cacheDir: string, key: string): string {
  return path.join(cacheDir, "images", `${key}.img`);
}

/** VERSION_CODENAME from /etc/os-release text. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return out;
}

/**
 * The host's Debian archive URI from its apt sources (deb822 `.sources` or one-line `.list`):
 * the first `deb` source whose suites include a plain codename (not -security/-updates).
 */
export function debianMirrorFromSources(files: { name: string; text: string }[]): string | undefined {
  const isPlainSuite = (s: string) =>
    SUITE_RE.test(s) && !/-(security|updates|backports|proposed-updates)$/.test(s);
  for (const f of files) {
    if (f.name.endsWith(".sources")) {
      for (const stanza of f.text.split(/\n\s*\n/)) {
        const fields: Record<string, string> = {};
        for (const line of stanza.split("\n")) {
          const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
          if (m) fields[m[1].toLowerCase()] = m[2].trim();
        }
        if (fields.enabled === "no") continue;
        if (!(fields.types ?? "").split(/\s+/).includes("deb")) continue;
        if (!(fields.suites ?? "").split(/\s+/).some(isPlainSuite)) continue;
        const uri = (fields.uris ?? "").split(/\s+/)[0];
        if (uri) return uri.replace(/\/+$/, "");
      }
    } else if (f.name.endsWith(".list")) {
      for (const line of f.text.split("\n")) {
        const words = line
          .replace(/\[[^\]]*\]/, "")
          .trim()
          .split(/\s+/);
        if (words[0] === "deb" && words.length >= 3 && isPlainSuite(words[2]))
          return words[1].replace(/\/+$/, "");
      }
    }
  }
  return undefined;
}

/** modules.dep text → map from module name (dummy, sch_netem) to its path and dependency paths. */
export function parseModulesDep(text: string): Map<string, { path: string; deps: string[] }> {
  const map = new Map<string, { path: string; deps: string[] }>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const p = line.slice(0, i).trim();
    const deps = line
      .slice(i + 1)
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    map.set(moduleName(p), { path: p, deps });
  }
  return map;
}

function moduleName(p: string): string {
  return path
    .basename(p)
    .replace(/\.ko(\.(xz|gz|zst))?$/, "")
    .replace(/-/g, "_");
}

/**
 * The module files needed for `names` (with their dependencies), as paths relative to the
 * modules directory, sorted. Throws naming the modules that do not exist.
 */
export function moduleClosure(dep: Map<string, { path: string; deps: string[] }>, names: string[]): string[] {
  const missing = names.filter((n) => !dep.has(n.replace(/-/g, "_")));
  if (missing.length) throw new Error(`unknown kernel module(s): ${missing.join(", ")}`);
  const files = new Set<string>();
  for (const n of names) {
    const m = dep.get(n.replace(/-/g, "_"))!;
    files.add(m.path);
    for (const d of m.deps) files.add(d);
  }
  return [...files].sort();
}

/** modules.dep restricted to the given files (busybox modprobe reads this text file). */
export function filterModulesDep(text: string, files: string[]): string {
  const keep = new Set(files);
  return (
    text
      .split("\n")
      .filter((l) => keep.has(l.slice(0, l.indexOf(":"))))
      .join("\n") + "\n"
  );
}

/** Image size in MiB for a tree of `usedKiB`: room for ext4 metadata, journal and some growth. */
export function autoSizeMb(usedKiB: number): number {
  const mb = Math.ceil((usedKiB * 1.25) / 1024) + 16;
  return Math.max(mb, 16);
}

/** The fields whose change replaces the image (every one does: core/schemas/image.ts imagePolicy). */
export function diffImageInputs(olds: Record<string, any>, news: Record<string, any>): string[] {
  return planFromPolicy(imagePolicy, olds, news).replaces;
}

/** Map a failed Debian bootstrap to the field to fix. */
export function explainDebianFailure(spec: ImageSpec, tail: string): string {
  const missing = [...tail.matchAll(/Unable to locate package (\S+)/g)].map((m) => m[1]);
  if (missing.length) {
    return `packages: ${[...new Set(missing)].map((p) => `"${p}"`).join(", ")} not found in ${spec.suite} at ${spec.mirror}; fix the name or remove it from \`packages\``;
  }
  if (
    /does not have a Release file|404\s+Not Found|Release' (?:is not signed|does not)|no such suite|cannot find/i.test(
      tail,
    )
  ) {
    return `suite: "${spec.suite}" is not available at ${spec.mirror}; use a suite this mirror carries (see Suites in /etc/apt/sources.list*) or set \`mirror\``;
  }
  if (/Could not resolve|Failed to fetch|Connection failed|Temporary failure/i.test(tail)) {
    return `mirror: ${spec.mirror} is not reachable; set \`mirror\` to the Debian archive this host uses (see /etc/apt/sources.list*)`;
  }
  if (/No space left on device/i.test(tail)) {
    return `cacheDir: no space left under ${spec.cacheDir}; free some space or point \`cacheDir\`/UMLAB_CACHE elsewhere`;
  }
  return `mmdebstrap failed for suite ${spec.suite} with packages ${spec.packages.join(", ")}`;
}

/**
 * The memory a guest booted from this image gets by default (Guest `memory`). A busybox guest
 * runs in 64M (the 6.1 kernel panics at boot with 32M). A Debian guest does not: at 64M a
 * Debian+FRR guest took 58 s to boot and the OOM killer took zebra and vtysh; at 128M the
 * OSPF ring's routers (zebra, ospfd, bfdd, staticd, watchfrr) run with room to spare (about
 * 80 MiB of host RAM each). Your own trees (dir, tarball) are sized like Debian.
 */
export function defaultGuestMemory(spec: Pick<ImageSpec, "kind">): string {
  return spec.kind === "busybox" ? "64M" : "128M";
}
