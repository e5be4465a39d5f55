// Building an image: fill a root tree (busybox, Debian by mmdebstrap, or the user's dir or
// tarball), add the guest side of the contract, make an ext4 file of it, and publish it in
// the cache. Every host tool runs through host/process.ts.
import * as fs from "fs";
import * as path from "path";
import { HostToolError, run } from "../host/process";
import {
  autoSizeMb,
  explainDebianFailure,
  filterModulesDep,
  type ImageOutputs,
  type ImageSpec,
} from "./plan";
import { INIT_SCRIPT, UML_MODULES_ROOT, moduleFiles, planImage } from "./host";
import { describeImage, freeSpaceMb, sha256File, sidecarPath, verifyImage, writeSidecar } from "./cache";

export type ImageLog = (message: string) => void;

/** Wrap a host tool failure: the field to fix first, then the tool's last lines. */
function toolFailure(what: string, e: unknown): Error {
  if (e instanceof HostToolError) {
    return new Error(`${what}\n--- last lines of ${e.command[0]} ---\n${e.tail || "(no output)"}`);
  }
  return new Error(`${what}: ${(e as Error).message}`);
}

function secondsSince(t0: number): string {
  return ((Date.now() - t0) / 1000).toFixed(1);
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

async function populateDebian(root: string, spec: ImageSpec, kver: string, log: ImageLog): Promise<void> {
  const started = Date.now();
  const args = [
    "--variant=minbase",
    `--include=${spec.packages.join(",")}`,
    // Release files carry a Valid-Until date so a mirror cannot replay an old (vulnerable)
    // archive for ever: keep that check, except for snapshot archives, whose Release files
    // are old on purpose (snapshot.debian.org and the like).
    ...(/\bsnapshot\b/i.test(spec.mirror ?? "") ? ["--aptopt=Acquire::Check-Valid-Until false"] : []),
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

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The guest side of the contract, added to every image. */
export function installContract(root: string): void {
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

async function removeTree(p: string): Promise<void> {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch {
    // e.g. permissions inside a bootstrap tree: let rm try
    await run("rm", ["-rf", "--one-file-system", "--", p], { allowFailure: true });
  }
}

/** The cache folder must exist and have room for a build of this kind. */
function prepareCacheDir(dir: string, spec: ImageSpec): void {
  try {
    // 0700: another local user must not swap an image (or a temp build) under us.
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
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
}

/** mke2fs -d: the tree into an ext4 file (in the cache folder `dir`); a failure names the field to fix. */
async function makeFilesystem(
  root: string,
  image: string,
  dir: string,
  spec: ImageSpec,
  log: ImageLog,
): Promise<void> {
  const usedKiB = Number((await run("du", ["-sk", "--apparent-size", root])).stdout.split(/\s+/)[0]);
  const sizeMb = spec.sizeMb ?? autoSizeMb(usedKiB);
  log(`mke2fs: ${Math.ceil(usedKiB / 1024)} MiB of files into a ${sizeMb} MiB ext4 image`);
  try {
    await run(
      "mke2fs",
      ["-q", "-F", "-t", "ext4", "-L", "umlab", "-m", "0", "-d", root, image, `${sizeMb}M`],
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
}

/**
 * Build the image `spec` describes, or find it in the cache. Builds in a temp directory next
 * to the final path and publishes it with link(2), which never replaces an existing file:
 * nothing half-written is ever at the final path and a published image is never rewritten.
 */
export async function buildImage(spec: ImageSpec, log: ImageLog = () => {}): Promise<ImageOutputs> {
  const { key, path: finalPath, kernelVersion } = await planImage(spec);
  if (fs.existsSync(finalPath)) {
    const v = await verifyImage(finalPath);
    if (v.ok) {
      log(`image ${key.slice(0, 12)} is cached at ${finalPath}`);
      return describeImage(finalPath, key, kernelVersion);
    }
    // Never boot a truncated or replaced image: remove it (and its sidecar) and build again.
    log(`image ${key.slice(0, 12)} at ${finalPath} is damaged (${v.why}); rebuilding it`);
    fs.rmSync(finalPath, { force: true });
    fs.rmSync(sidecarPath(finalPath), { force: true });
  }
  const dir = path.dirname(finalPath);
  prepareCacheDir(dir, spec);
  // The builder's pid in the name: pruning leaves a live build's temp alone (cache.ts).
  const tmp = fs.mkdtempSync(path.join(dir, `.tmp-${key.slice(0, 12)}-${process.pid}-`));
  // apt's _apt user downloads into the bootstrap tree when it can reach it; under the 0700
  // cache dir it cannot, and mmdebstrap then downloads as root (it checks, and says so).
  fs.chmodSync(tmp, 0o755);
  const started = Date.now();
  try {
    const root = path.join(tmp, "root");
    fs.mkdirSync(root);
    log(`building ${spec.kind} image ${key.slice(0, 12)} (kernel modules ${kernelVersion})`);
    if (spec.kind === "busybox") await populateBusybox(root, spec, kernelVersion);
    else if (spec.kind === "debian") await populateDebian(root, spec, kernelVersion, log);
    else await populateUserTree(root, spec, kernelVersion);
    installContract(root);

    const tmpImage = path.join(tmp, "image.img");
    await makeFilesystem(root, tmpImage, dir, spec, log);
    log(`mke2fs done after ${secondsSince(started)} s`);
    fs.chmodSync(tmpImage, 0o444);
    // The sidecar first (a hit checks the image against it), then the image.
    const sideTmp = path.join(tmp, "image.sha256");
    writeSidecar(tmpImage, await sha256File(tmpImage), sideTmp);
    try {
      fs.linkSync(tmpImage, finalPath);
      fs.renameSync(sideTmp, sidecarPath(finalPath));
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
