// What an image reads from this host, and nothing it writes: the UML kernel's version and
// modules, the host's Debian suite and mirror, the user's dir or tarball, the init script.
// planImage turns a spec into its cache key here; build.ts builds what it names.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run } from "../host/process";
import {
  formatFailures,
  imageArgFailures,
  imageArgsSchema,
  pickImageArgs,
  type ValidationFailure,
} from "../core/schemas/image";
import {
  debianMirrorFromSources,
  imageKey,
  imagePath,
  moduleClosure,
  normalizeSpec,
  parseModulesDep,
  parseOsRelease,
  type HostFacts,
  type ImageSpec,
} from "./plan";
import { hashDirectory, sha256File } from "./cache";

export const UML_MODULES_ROOT = "/usr/lib/uml/modules";

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

/** The rules zod must not run (they stat the file system): `dir` and `tarball` must exist. */
export function imageFileFailures(a: Record<string, any>): ValidationFailure[] {
  const out: ValidationFailure[] = [];
  if (typeof a.dir === "string" && path.isAbsolute(a.dir) && !isDirectory(a.dir)) {
    out.push({ property: "dir", reason: `dir: "${a.dir}" is not a directory` });
  }
  if (typeof a.tarball === "string" && path.isAbsolute(a.tarball) && !isFile(a.tarball)) {
    out.push({ property: "tarball", reason: `tarball: "${a.tarball}" is not a file` });
  }
  const cow = a.fromCow?.path;
  if (typeof cow === "string" && path.isAbsolute(cow) && !isFile(cow)) {
    out.push({ property: "fromCow", reason: `fromCow.path: "${cow}" is not a file (the guest's COW disk)` });
  }
  return out;
}

/**
 * Validate Image args on this host (the one place; sdk/image.ts calls it early, `check` is
 * the authority). Returns the failures, one per field, each naming the field.
 */
export function validateImageArgs(raw: Record<string, any>): ValidationFailure[] {
  return imageArgFailures(raw, imageFileFailures);
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

/** The module files (with dependencies) for `names`; an unknown name is an error naming `modules`. */
export function moduleFiles(names: string[], kver: string): string[] {
  const src = path.join(UML_MODULES_ROOT, kver);
  try {
    return moduleClosure(parseModulesDep(fs.readFileSync(path.join(src, "modules.dep"), "utf8")), names);
  } catch (e) {
    throw new Error(
      `modules: ${(e as Error).message} (see ${src}/modules.dep for the names this kernel has)`,
    );
  }
}

async function hostFacts(spec: ImageSpec): Promise<HostFacts> {
  const initSha256 = crypto.createHash("sha256").update(INIT_SCRIPT).digest("hex");
  const facts: HostFacts = { kernelVersion: await hostKernelVersion(), initSha256 };
  if (spec.modules.length) moduleFiles(spec.modules, facts.kernelVersion); // unknown names fail before any build
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
