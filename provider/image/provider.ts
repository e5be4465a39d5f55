// Image: a root filesystem backing file (ext4) that carries the guest side of the contract
// (docs/guest-contract.md). Images live in a content-addressed cache shared by all stacks:
// the same inputs give the same file, built once, never rewritten in place (COW disks
// depend on their backing file staying byte-identical).
//
// Layout of this file: validation (zod, shared with sdk/image.ts), pure planning helpers
// (cache key, module closure, mirror/suite discovery, sizing), effects (buildImage and
// friends, through hosttools), then the dynamic provider handlers.
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { HostToolError, run, writeFileAtomic } from "../host/process";

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

const UML_MODULES_ROOT = "/usr/lib/uml/modules";

// The init script is read once when this module loads, so its content (not a path) is what
// the dynamic provider carries in its serialized closure.
function loadInitScript(): string {
  for (const rel of ["../../image/umlab-init", "../../../image/umlab-init"]) {
    const p = path.join(__dirname, rel);
    if (fs.existsSync(p)) return fs.readFileSync(p, "utf8");
  }
  throw new Error(`umlab: image/umlab-init not found near ${__dirname}`);
}
export const INIT_SCRIPT: string = loadInitScript();

// ---------------------------------------------------------------------------------------
// Validation (the one place; sdk/image.ts calls it early, `check` is the authority)
// ---------------------------------------------------------------------------------------

const PACKAGE_RE = /^[a-z0-9][a-z0-9+.-]*$/;
const SUITE_RE = /^[a-z][a-z0-9-]*$/;
const MODULE_RE = /^[A-Za-z0-9_-]+$/;

/** The Image argument names, in the order errors list them. */
export const IMAGE_ARG_KEYS = [
  "preset",
  "dir",
  "tarball",
  "suite",
  "packages",
  "mirror",
  "modules",
  "sizeMb",
  "cacheDir",
];

// A function, not a module-level schema object: the dynamic provider is serialized by value,
// and Pulumi's closure serializer cannot capture zod's schema objects (it can capture the
// zod module itself, as require("zod")).
export function imageArgsSchema() {
  return z
    .object({
      preset: z
        .enum(["busybox", "debian"], { error: 'must be "busybox" or "debian" (or give `dir` or `tarball`)' })
        .optional(),
      dir: z.string().optional(),
      tarball: z.string().optional(),
      suite: z.string().regex(SUITE_RE, "must be a Debian suite or codename such as bookworm").optional(),
      packages: z.array(z.string().regex(PACKAGE_RE, "must be a Debian package name such as frr")).optional(),
      mirror: z
        .string()
        .regex(/^https?:\/\/\S+$/, "must be an http(s) URL of a Debian archive")
        .optional(),
      modules: z
        .array(z.string().regex(MODULE_RE, "must be a kernel module name such as sch_netem"))
        .optional(),
      sizeMb: z.number().int().min(8, "must be at least 8").max(262144).optional(),
      cacheDir: z.string().optional(),
    })
    .strict()
    .superRefine((a, ctx) => {
      const sources = (["preset", "dir", "tarball"] as const).filter((k) => a[k] !== undefined);
      if (sources.length > 1) {
        ctx.addIssue({
          code: "custom",
          path: [sources[1]],
          message: `give only one of preset, dir, tarball (got ${sources.join(", ")})`,
        });
      }
      const debian = a.preset === "debian";
      for (const k of ["suite", "packages", "mirror"] as const) {
        if (a[k] !== undefined && !debian) {
          ctx.addIssue({ code: "custom", path: [k], message: `only applies to preset "debian"` });
        }
      }
      if (a.modules !== undefined && debian) {
        ctx.addIssue({
          code: "custom",
          path: ["modules"],
          message: `a Debian image carries every module already; remove it`,
        });
      }
      for (const k of ["dir", "tarball", "cacheDir"] as const) {
        const v = a[k];
        if (v !== undefined && !path.isAbsolute(v)) {
          ctx.addIssue({ code: "custom", path: [k], message: `must be an absolute path (got "${v}")` });
        }
      }
      if (a.dir !== undefined && path.isAbsolute(a.dir) && !isDirectory(a.dir)) {
        ctx.addIssue({ code: "custom", path: ["dir"], message: `"${a.dir}" is not a directory` });
      }
      if (a.tarball !== undefined && path.isAbsolute(a.tarball) && !isFile(a.tarball)) {
        ctx.addIssue({ code: "custom", path: ["tarball"], message: `"${a.tarball}" is not a file` });
      }
    });
}

export type ImageArgsInput = z.infer<ReturnType<typeof imageArgsSchema>>;

export interface ValidationFailure {
  property: string;
  reason: string;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** During preview, inputs not yet known arrive as this GUID; they are not validated. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Only the fields of the args (no outputs, no provider key), unknown values dropped. */
export function pickImageArgs(raw: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const k of IMAGE_ARG_KEYS) {
    const v = raw[k];
    if (v === undefined || v === null || v === UNKNOWN) continue;
    if (Array.isArray(v) && v.includes(UNKNOWN)) continue;
    out[k] = v;
  }
  return out;
}

/** Validate Image args. Returns the failures, one per field, each naming the field. */
export function validateImageArgs(raw: Record<string, any>): ValidationFailure[] {
  const known = new Set([...IMAGE_ARG_KEYS, ...IMAGE_OUTPUT_KEYS]);
  const unknown = Object.keys(raw).filter((k) => !known.has(k) && !k.startsWith("__"));
  const failures = unknown.map((k) => ({
    property: k,
    reason: `${k}: unknown field (Image takes ${IMAGE_ARG_KEYS.join(", ")})`,
  }));
  const r = imageArgsSchema().safeParse(pickImageArgs(raw));
  if (r.success) return failures;
  return failures.concat(
    r.error.issues.map((i) => {
      const property = i.path.length ? String(i.path[0]) : "(args)";
      const at = i.path.length > 1 ? `[${i.path.slice(1).join(".")}]` : "";
      const message = i.code === "unrecognized_keys" ? `unknown field(s) ${i.keys.join(", ")}` : i.message;
      return {
        property: i.code === "unrecognized_keys" ? i.keys[0] : property,
        reason: `${property}${at}: ${message}`,
      };
    }),
  );
}

/** Output properties of an Image (they come back in `olds` and must not count as unknown args). */
export const IMAGE_OUTPUT_KEYS = ["path", "sizeBytes", "allocatedBytes", "sha256", "kernelVersion", "key"];

export function formatFailures(resource: string, failures: ValidationFailure[]): string {
  return (
    `umlab Image "${resource}": invalid arguments:\n` + failures.map((f) => `  - ${f.reason}`).join("\n")
  );
}

// ---------------------------------------------------------------------------------------
// Pure planning
// ---------------------------------------------------------------------------------------

/** A validated, normalized image spec: everything that decides the bytes, nothing else. */
export interface ImageSpec {
  kind: "busybox" | "debian" | "dir" | "tarball";
  /** dir or tarball path */
  source?: string;
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

/** Turn validated args into a spec: defaults from the host (suite, mirror, cache dir). */
export function normalizeSpec(
  args: ImageArgsInput,
  host: { env: NodeJS.ProcessEnv; homedir: string; hostSuite?: string; hostMirror?: string },
): ImageSpec {
  const cacheDir = args.cacheDir ?? host.env.UMLAB_CACHE ?? path.join(host.homedir, ".cache", "umlab");
  const uniqSorted = (xs: string[]) => [...new Set(xs)].sort();
  if (args.dir !== undefined) {
    return {
      kind: "dir",
      source: path.resolve(args.dir),
      packages: [],
      modules: uniqSorted(args.modules ?? []),
      sizeMb: args.sizeMb,
      cacheDir,
    };
  }
  if (args.tarball !== undefined) {
    return {
      kind: "tarball",
      source: path.resolve(args.tarball),
      packages: [],
      modules: uniqSorted(args.modules ?? []),
      sizeMb: args.sizeMb,
      cacheDir,
    };
  }
  if (args.preset === "debian") {
    return {
      kind: "debian",
      suite: args.suite ?? host.hostSuite ?? "bookworm",
      mirror: (args.mirror ?? host.hostMirror ?? "http://deb.debian.org/debian").replace(/\/+$/, ""),
      packages: uniqSorted([...DEBIAN_BASE_PACKAGES, ...(args.packages ?? [])]),
      modules: [],
      sizeMb: args.sizeMb,
      cacheDir,
    };
  }
  return {
    kind: "busybox",
    packages: [],
    modules: uniqSorted(args.modules ?? DEFAULT_BUSYBOX_MODULES),
    sizeMb: args.sizeMb,
    cacheDir,
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

/** The input fields whose change replaces the image (all of them, plus the derived key). */
export function diffImageInputs(olds: Record<string, any>, news: Record<string, any>): string[] {
  const fields = [...IMAGE_ARG_KEYS, "key"];
  const norm = (v: any) => (v === null ? undefined : v);
  return fields.filter((f) => JSON.stringify(norm(olds[f])) !== JSON.stringify(norm(news[f])));
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

// ---------------------------------------------------------------------------------------
// Effects
// ---------------------------------------------------------------------------------------

export type ImageLog = (message: string) => void;

export interface ImageOutputs {
  path: string;
  sizeBytes: number;
  allocatedBytes: number;
  sha256: string;
  kernelVersion: string;
  key: string;
}

function sha256Text(s: string): string {
  return crypto.createHash("sha256").update(s).digest("hex");
}

/** sha256 of a file, streamed. */
export function sha256File(p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash("sha256");
    fs.createReadStream(p)
      .on("data", (d) => h.update(d))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });
}

/** Content hash of a directory tree: relative paths, types, modes, owners, contents, link targets. */
export function hashDirectory(root: string): string {
  const h = crypto.createHash("sha256");
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    const st = fs.lstatSync(abs);
    h.update(`${rel}\0${st.mode}\0${st.uid}:${st.gid}\0`);
    if (st.isSymbolicLink()) h.update(fs.readlinkSync(abs));
    else if (st.isFile()) h.update(fs.readFileSync(abs));
    else if (st.isDirectory()) for (const e of fs.readdirSync(abs).sort()) walk(path.join(rel, e));
    else h.update(`${st.rdev}`);
    h.update("\0");
  };
  walk(".");
  return h.digest("hex");
}

/** The UML kernel's version: the one modules directory, or the one `linux.uml --version` names. */
export async function hostKernelVersion(): Promise<string> {
  let versions: string[] = [];
  try {
    versions = fs
      .readdirSync(UML_MODULES_ROOT)
      .filter((v) => fs.existsSync(path.join(UML_MODULES_ROOT, v, "modules.dep")));
  } catch {
    // fall through
  }
  if (versions.length === 1) return versions[0];
  const r = await run("linux.uml", ["--version"], { timeoutMs: 20_000 });
  const v = r.stdout.trim().split(/\s+/)[0];
  if (!v || (versions.length && !versions.includes(v))) {
    throw new Error(
      `cannot find the UML kernel modules in ${UML_MODULES_ROOT} (install user-mode-linux: \`npm run setup\`)`,
    );
  }
  return v;
}

/** Host defaults: Debian suite and mirror, from /etc/os-release and apt's sources. */
export function hostDebianDefaults(): { hostSuite?: string; hostMirror?: string } {
  let hostSuite: string | undefined;
  try {
    hostSuite = parseOsRelease(fs.readFileSync("/etc/os-release", "utf8")).VERSION_CODENAME || undefined;
  } catch {
    // not Debian-like
  }
  const files: { name: string; text: string }[] = [];
  const read = (p: string) => {
    try {
      files.push({ name: p, text: fs.readFileSync(p, "utf8") });
    } catch {
      // missing
    }
  };
  read("/etc/apt/sources.list");
  try {
    for (const f of fs.readdirSync("/etc/apt/sources.list.d").sort())
      read(path.join("/etc/apt/sources.list.d", f));
  } catch {
    // missing
  }
  return { hostSuite, hostMirror: debianMirrorFromSources(files) };
}

/** Validate and normalize args on this host. Throws one error listing every bad field. */
export function resolveSpec(args: Record<string, any>, resource = "image"): ImageSpec {
  const failures = validateImageArgs(args);
  if (failures.length) throw new Error(formatFailures(resource, failures));
  const parsed = imageArgsSchema().parse(pickImageArgs(args));
  return normalizeSpec(parsed, { env: process.env, homedir: os.homedir(), ...hostDebianDefaults() });
}

async function hostFacts(spec: ImageSpec): Promise<HostFacts> {
  const facts: HostFacts = { kernelVersion: await hostKernelVersion(), initSha256: sha256Text(INIT_SCRIPT) };
  if (spec.modules.length) moduleFiles(spec.modules, facts.kernelVersion); // unknown names fail here, in check
  if (spec.kind === "dir") facts.sourceHash = hashDirectory(spec.source!);
  if (spec.kind === "tarball") facts.sourceHash = await sha256File(spec.source!);
  return facts;
}

/** The key and final path the spec maps to on this host (reads the host; builds nothing). */
export async function planImage(
  spec: ImageSpec,
): Promise<{ key: string; path: string; kernelVersion: string }> {
  const facts = await hostFacts(spec);
  const key = imageKey(spec, facts);
  return { key, path: imagePath(spec.cacheDir, key), kernelVersion: facts.kernelVersion };
}

/**
 * sha256 of a published image, remembered in `<image>.sha256` beside it: a published image is
 * never rewritten, so a cache hit need not re-read hundreds of MB.
 */
async function cachedSha256(p: string): Promise<string> {
  const side = `${p}.sha256`;
  try {
    const v = fs.readFileSync(side, "utf8").trim();
    if (/^[0-9a-f]{64}$/.test(v)) return v;
  } catch {
    // not recorded yet
  }
  const v = await sha256File(p);
  try {
    writeFileAtomic(side, v + "\n", 0o444);
  } catch {
    // a read-only cache still works, just slower
  }
  return v;
}

async function describeImage(p: string, key: string, kernelVersion: string): Promise<ImageOutputs> {
  const st = fs.statSync(p);
  return {
    path: p,
    sizeBytes: st.size,
    allocatedBytes: st.blocks * 512,
    sha256: await cachedSha256(p),
    kernelVersion,
    key,
  };
}

/** Wrap a host tool failure: the field to fix first, then the tool's last lines. */
function toolFailure(what: string, e: unknown): Error {
  if (e instanceof HostToolError) {
    return new Error(`${what}\n--- last lines of ${e.command[0]} ---\n${e.tail || "(no output)"}`);
  }
  return new Error(`${what}: ${(e as Error).message}`);
}

async function populateBusybox(root: string, spec: ImageSpec, kver: string): Promise<void> {
  for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "var/log", "lib/modules"]) {
    fs.mkdirSync(path.join(root, d), { recursive: true });
  }
  fs.copyFileSync("/bin/busybox", path.join(root, "bin/busybox"));
  fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
  const { stdout } = await run("/bin/busybox", ["--list-full"]);
  for (const applet of stdout
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const target = path.join(root, applet);
    if (applet === "bin/busybox" || fs.existsSync(target)) continue;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.symlinkSync("/bin/busybox", target);
  }
  fs.writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  fs.writeFileSync(path.join(root, "etc/group"), "root:x:0:\n");
  fs.writeFileSync(path.join(root, "etc/hosts"), "127.0.0.1 localhost\n::1 localhost\n");
  fs.writeFileSync(path.join(root, "etc/hostname"), "umlab\n");
  // The kernel opens /dev/console for PID 1 before the init mounts devtmpfs.
  fs.mkdirSync(path.join(root, "dev"), { recursive: true });
  await run("mknod", ["-m", "600", path.join(root, "dev/console"), "c", "5", "1"]);
  await run("mknod", ["-m", "666", path.join(root, "dev/null"), "c", "1", "3"]);
  await copyModules(root, spec.modules, kver);
}

/** The module files (with dependencies) for `names`; an unknown name is an error naming `modules`. */
function moduleFiles(names: string[], kver: string): string[] {
  const src = path.join(UML_MODULES_ROOT, kver);
  try {
    return moduleClosure(parseModulesDep(fs.readFileSync(path.join(src, "modules.dep"), "utf8")), names);
  } catch (e) {
    throw new Error(
      `modules: ${(e as Error).message} (see ${src}/modules.dep for the names this kernel has)`,
    );
  }
}

/** Copy the named modules (with dependencies) and a matching modules.dep into the image. */
async function copyModules(root: string, names: string[], kver: string): Promise<void> {
  if (!names.length) return;
  const src = path.join(UML_MODULES_ROOT, kver);
  const depText = fs.readFileSync(path.join(src, "modules.dep"), "utf8");
  const files = moduleFiles(names, kver);
  const dst = path.join(root, "lib/modules", kver);
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dst, f)), { recursive: true });
    fs.copyFileSync(path.join(src, f), path.join(dst, f));
  }
  fs.writeFileSync(path.join(dst, "modules.dep"), filterModulesDep(depText, files));
  for (const extra of ["modules.builtin", "modules.builtin.modinfo", "modules.order"]) {
    if (fs.existsSync(path.join(src, extra))) fs.copyFileSync(path.join(src, extra), path.join(dst, extra));
  }
}

function secondsSince(t0: number): string {
  return ((Date.now() - t0) / 1000).toFixed(1);
}

async function populateDebian(root: string, spec: ImageSpec, kver: string, log: ImageLog): Promise<void> {
  const started = Date.now();
  const args = [
    "--variant=minbase",
    `--include=${spec.packages.join(",")}`,
    "--aptopt=Acquire::Check-Valid-Until false",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    spec.suite!,
    root,
    `deb ${spec.mirror} ${spec.suite} main`,
  ];
  log(`mmdebstrap ${spec.suite} (minbase + ${spec.packages.join(", ")}) from ${spec.mirror}`);
  let pending = "";
  try {
    await run("mmdebstrap", args, {
      timeoutMs: 30 * 60_000,
      onOutput: (chunk) => {
        pending += chunk;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const l of lines) if (/^(I|W|E):/.test(l)) log(`mmdebstrap: ${l}`);
      },
    });
  } catch (e) {
    throw toolFailure(explainDebianFailure(spec, e instanceof HostToolError ? e.tail : String(e)), e);
  }
  // Every module of the host UML kernel, so netem, dummy, softdog, nfsd... load.
  log(`mmdebstrap done after ${secondsSince(started)} s; copying the UML kernel modules ${kver}`);
  fs.mkdirSync(path.join(root, "lib/modules"), { recursive: true });
  await run("cp", ["-a", path.join(UML_MODULES_ROOT, kver), path.join(root, "lib/modules", kver)]);
}

async function populateUserTree(root: string, spec: ImageSpec, kver: string): Promise<void> {
  if (spec.kind === "dir") {
    await run("cp", ["-a", "--", `${spec.source}/.`, root], { timeoutMs: 30 * 60_000 }).catch((e) => {
      throw toolFailure(`dir: could not copy ${spec.source}`, e);
    });
  } else {
    await run("tar", ["-x", "-p", "--numeric-owner", "-f", spec.source!, "-C", root], {
      timeoutMs: 30 * 60_000,
    }).catch((e) => {
      throw toolFailure(
        `tarball: could not extract ${spec.source} (a tar archive, optionally compressed)`,
        e,
      );
    });
  }
  if (!fs.existsSync(path.join(root, "bin/sh")) && !fs.existsSync(path.join(root, "usr/bin/sh"))) {
    throw new Error(`${spec.kind}: ${spec.source} has no /bin/sh; the contract init is a sh script`);
  }
  await copyModules(root, spec.modules, kver);
}

/** The guest side of the contract, added to every image. */
function installContract(root: string): void {
  for (const d of ["proc", "sys", "dev", "tmp", "run", "umlab", "sbin"]) {
    const p = path.join(root, d);
    if (!fs.existsSync(p)) fs.mkdirSync(p, { recursive: true });
  }
  fs.chmodSync(path.join(root, "tmp"), 0o1777);
  const init = path.join(root, "sbin/umlab-init");
  if (fs.existsSync(init) || isSymlink(init)) fs.rmSync(init);
  fs.writeFileSync(init, INIT_SCRIPT, { mode: 0o755 });
  fs.chmodSync(init, 0o755);
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Build the image `spec` describes, or find it in the cache. Builds in a temp directory next
 * to the final path and publishes it with link(2), which never replaces an existing file:
 * nothing half-written is ever at the final path and a published image is never rewritten.
 */
export async function buildImage(spec: ImageSpec, log: ImageLog = () => {}): Promise<ImageOutputs> {
  const { key, path: finalPath, kernelVersion } = await planImage(spec);
  if (fs.existsSync(finalPath)) {
    log(`image ${key.slice(0, 12)} is cached at ${finalPath}`);
    return describeImage(finalPath, key, kernelVersion);
  }
  const dir = path.dirname(finalPath);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new Error(
      `cacheDir: cannot create ${dir}: ${(e as Error).message}; set \`cacheDir\` or UMLAB_CACHE to a writable folder`,
    );
  }
  const needMb = spec.kind === "debian" ? 1024 : 64;
  const freeMb = freeSpaceMb(dir);
  if (freeMb !== undefined && freeMb < needMb) {
    throw new Error(
      `cacheDir: only ${freeMb} MiB free under ${dir}, a ${spec.kind} image needs about ${needMb} MiB; free some space or set \`cacheDir\`/UMLAB_CACHE elsewhere`,
    );
  }
  const tmp = fs.mkdtempSync(path.join(dir, `.tmp-${key.slice(0, 12)}-`));
  fs.chmodSync(tmp, 0o755); // apt's _apt user downloads into the bootstrap tree
  const started = Date.now();
  try {
    const root = path.join(tmp, "root");
    fs.mkdirSync(root);
    log(`building ${spec.kind} image ${key.slice(0, 12)} (kernel modules ${kernelVersion})`);
    if (spec.kind === "busybox") await populateBusybox(root, spec, kernelVersion);
    else if (spec.kind === "debian") await populateDebian(root, spec, kernelVersion, log);
    else await populateUserTree(root, spec, kernelVersion);
    installContract(root);

    const usedKiB = Number((await run("du", ["-sk", "--apparent-size", root])).stdout.split(/\s+/)[0]);
    const sizeMb = spec.sizeMb ?? autoSizeMb(usedKiB);
    const tmpImage = path.join(tmp, "image.img");
    log(`mke2fs: ${Math.ceil(usedKiB / 1024)} MiB of files into a ${sizeMb} MiB ext4 image`);
    try {
      await run(
        "mke2fs",
        ["-q", "-F", "-t", "ext4", "-L", "umlab", "-m", "0", "-d", root, tmpImage, `${sizeMb}M`],
        {
          timeoutMs: 30 * 60_000,
        },
      );
    } catch (e) {
      const tail = e instanceof HostToolError ? e.tail : "";
      const full = /No space left|Could not allocate|too many|inode/i.test(tail);
      const hint = full
        ? spec.sizeMb !== undefined
          ? `sizeMb: ${spec.sizeMb} MiB is too small for ${Math.ceil(usedKiB / 1024)} MiB of files; raise \`sizeMb\` or leave it unset`
          : `cacheDir: mke2fs ran out of space under ${dir}; free some space or set \`cacheDir\`/UMLAB_CACHE elsewhere`
        : `mke2fs failed building the ${spec.kind} image`;
      throw toolFailure(hint, e);
    }
    log(`mke2fs done after ${secondsSince(started)} s`);
    fs.chmodSync(tmpImage, 0o444);
    try {
      fs.linkSync(tmpImage, finalPath);
    } catch (e) {
      // Another build of the same key published first: theirs is as good, keep it.
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      log(`image ${key.slice(0, 12)} was published concurrently; using that copy`);
    }
    log(`built ${finalPath} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await removeTree(tmp);
  }
  return describeImage(finalPath, key, kernelVersion);
}

async function removeTree(p: string): Promise<void> {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch {
    // e.g. permissions inside a bootstrap tree: let rm try
    await run("rm", ["-rf", "--one-file-system", "--", p], { allowFailure: true });
  }
}

function freeSpaceMb(dir: string): number | undefined {
  try {
    const s = fs.statfsSync(dir);
    return Math.floor((s.bavail * s.bsize) / (1024 * 1024));
  } catch {
    return undefined;
  }
}

/**
 * Remove cached images not in `keep` (paths or keys) and leftover temp builds. The cache is
 * shared by every stack and COW disks depend on their backing files: run this only when no
 * lab uses the images you do not list.
 */
export function pruneImages(opts: { cacheDir?: string; keep?: string[] } = {}): string[] {
  const cacheDir = opts.cacheDir ?? process.env.UMLAB_CACHE ?? path.join(os.homedir(), ".cache", "umlab");
  const dir = path.join(cacheDir, "images");
  const keep = new Set((opts.keep ?? []).map((k) => path.basename(k).replace(/\.img$/, "")));
  const removed: string[] = [];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const e of entries) {
    const p = path.join(dir, e);
    const key = e.replace(/\.img(\.sha256)?$/, "");
    if (e.startsWith(".tmp-") || (/\.img(\.sha256)?$/.test(e) && !keep.has(key))) {
      fs.rmSync(p, { recursive: true, force: true });
      removed.push(p);
    }
  }
  return removed;
}

// ---------------------------------------------------------------------------------------
// Dynamic provider
// ---------------------------------------------------------------------------------------

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

export const imageProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
    const failures = validateImageArgs(news);
    if (failures.length) return { inputs: news, failures };
    const args = pickImageArgs(news);
    // Unknown inputs (preview): the key is decided at create time.
    const anyUnknown = IMAGE_ARG_KEYS.some((k) => news[k] === UNKNOWN);
    if (anyUnknown) return { inputs: { ...args } };
    try {
      const spec = resolveSpec(args);
      const { key } = await planImage(spec);
      // The key makes a changed dir/tarball content or builder a diff even with equal args.
      return { inputs: { ...args, key } };
    } catch (e) {
      const message = (e as Error).message;
      const field = /^(\w+):/.exec(message)?.[1];
      return {
        inputs: news,
        failures: [{ property: field && IMAGE_ARG_KEYS.includes(field) ? field : "preset", reason: message }],
      };
    }
  },

  async diff(_id: string, olds: any, news: any): Promise<pulumi.dynamic.DiffResult> {
    const replaces = diffImageInputs(olds, news);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(inputs: any): Promise<pulumi.dynamic.CreateResult> {
    const spec = resolveSpec(inputs);
    const out = await buildImage(spec, providerLog);
    return { id: out.key, outs: { ...pickImageArgs(inputs), ...out } };
  },

  async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    // Refresh: a pruned image is gone (the next `up` rebuilds it).
    if (!props?.path || !fs.existsSync(props.path)) return { id: "", props: {} };
    const st = fs.statSync(props.path);
    return { id, props: { ...props, sizeBytes: st.size, allocatedBytes: st.blocks * 512 } };
  },

  // The cache is shared between stacks (same inputs, same file): deleting the resource
  // leaves the file. Use pruneImages() to reclaim space.
  async delete(): Promise<void> {},
};
