// Pure naming for a lab: ids, runtime paths and stable MACs, all derived from
// project + stack (+ resource names), so two stacks of one program never collide.
// Every path a lab uses is built here, and `labSocketPaths` lists every unix socket a lab
// dir implies for a name (the sun_path rule in check covers exactly that list).
// No I/O here; the handlers and the SDK both call these.
import * as crypto from "crypto";
import * as path from "path";

/** Unix socket paths (sun_path) hold at most 107 bytes plus the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

/** The longest resource name the schemas allow (fields.ts NAME_RE) and the longest lab id. */
export const MAX_NAME = 23;
export const MAX_LAB_ID = 24;

/** The per-user fallback root: `/var/tmp/umlab-<uid>` (never shared between users). */
export function fallbackRuntimeRoot(uid: number): string {
  return `/var/tmp/umlab-${uid}`;
}

/** The longest runtime root (in bytes) that keeps every socket of a max-length lab id and name within sun_path. */
export function maxRootBytes(): number {
  const tail = longestSocketPath(labDir("", "x".repeat(MAX_LAB_ID)), "a".repeat(MAX_NAME));
  return MAX_SOCKET_PATH - Buffer.byteLength(tail);
}

/**
 * The runtime root: `$UMLAB_RUNTIME` (trailing slashes dropped), else `/var/tmp/umlab-<uid>`:
 * per user, on disk, and the same in a login shell, a CI job or cron. ($XDG_RUNTIME_DIR is not
 * used: it is RAM-backed, emptied at logout, and absent outside login sessions, so a stack's
 * root, an input of its LabRuntime, would change with how it was run and replace the lab.)
 */
export function runtimeRoot(env: Record<string, string | undefined>, uid: number): string {
  const r = env.UMLAB_RUNTIME;
  if (r && r.trim() !== "") return r.replace(/\/+$/, "") || "/";
  return fallbackRuntimeRoot(uid);
}

function shortHash(text: string, hexChars: number): string {
  return crypto.createHash("sha256").update(text).digest("hex").slice(0, hexChars);
}

/** Lower-case, [a-z0-9] only, at most `max` characters ("x" when nothing is left). */
export function slug(text: string, max: number): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "")
    .slice(0, max);
  return s === "" ? "x" : s;
}

/**
 * A short, readable, unique id for a project+stack: `<project 8>-<stack 8>-<hash 6>`,
 * at most 24 characters. The hash covers the full names, so truncation never collides.
 */
export function labId(project: string, stack: string): string {
  return `${slug(project, 8)}-${slug(stack, 8)}-${shortHash(`${project}\0${stack}`, 6)}`;
}

export interface LabPaths {
  /** The lab's runtime directory (mode 0700). */
  dir: string;
  /** `uml_dir=` for every guest: mconsole sockets and pid files live under it. */
  umlDir: string;
  /** Guest folders (the host side of the guest contract). */
  guestsDir: string;
  /** Switch sockets. */
  switchesDir: string;
  /** COW files. */
  disksDir: string;
  /** Tap logs (the devices themselves live in the lab's network namespace). */
  tapsDir: string;
  /** Captures: default pcap files and logs. */
  capturesDir: string;
  /** Serial cables: FIFOs and byte logs. */
  cablesDir: string;
  /** Impairments: the private switches' control directories, pid files and logs. */
  impairmentsDir: string;
}

export function labPaths(labDir: string): LabPaths {
  return {
    dir: labDir,
    umlDir: `${labDir}/uml`,
    guestsDir: `${labDir}/g`,
    switchesDir: `${labDir}/sw`,
    disksDir: `${labDir}/disk`,
    tapsDir: `${labDir}/net`,
    capturesDir: `${labDir}/cap`,
    cablesDir: `${labDir}/ser`,
    impairmentsDir: `${labDir}/imp`,
  };
}

export function labDir(root: string, id: string): string {
  return `${root}/${id}`;
}

export type SwitchEngine = "uml_switch" | "vde";

export interface SwitchPaths {
  /** uml_switch: the control socket; vde: the control directory. */
  control: string;
  /** The socket a guest finally connects to (uml_switch: the ctl socket; vde: `<dir>/ctl`). */
  socket: string;
  log: string;
  pidFile: string;
}

export function switchPaths(labDir: string, name: string, engine: SwitchEngine): SwitchPaths {
  const base = `${labPaths(labDir).switchesDir}/${name}`;
  return engine === "vde"
    ? { control: base, socket: `${base}/ctl`, log: `${base}.log`, pidFile: `${base}.pid` }
    : { control: `${base}.ctl`, socket: `${base}.ctl`, log: `${base}.log`, pidFile: `${base}.pid` };
}

export interface GuestPaths {
  /** The guest folder of docs/guest-contract.md. */
  dir: string;
  config: string;
  files: string;
  startup: string;
  state: string;
  ready: string;
  initLog: string;
  /** stdout/stderr of the UML process (con0 output and kernel messages). */
  consoleLog: string;
  /** A FIFO feeding con0 (the guest's console shell reads it). */
  consoleIn: string;
  /** A FIFO feeding con7, the exec agent's request line (fd 3 of the UML process). */
  agentIn: string;
  /** Exec request folders (`exec/<id>/{cmd,stdin,out,err,rc,pid}`), /umlab/exec in the guest. */
  execDir: string;
  /** `uml_dir/umid`: holds `mconsole` and `pid`. */
  umidDir: string;
  mconsole: string;
}

export function guestPaths(labDir: string, name: string): GuestPaths {
  const p = labPaths(labDir);
  const dir = `${p.guestsDir}/${name}`;
  return {
    dir,
    config: `${dir}/config`,
    files: `${dir}/files`,
    startup: `${dir}/startup`,
    state: `${dir}/state`,
    ready: `${dir}/state/ready`,
    initLog: `${dir}/state/init.log`,
    consoleLog: `${dir}/console.log`,
    consoleIn: `${dir}/console.in`,
    agentIn: `${dir}/agent.in`,
    execDir: `${dir}/exec`,
    umidDir: `${p.umlDir}/${name}`,
    mconsole: `${p.umlDir}/${name}/mconsole`,
  };
}

export function cowPath(labDir: string, name: string): string {
  return `${labPaths(labDir).disksDir}/${name}.cow`;
}

/**
 * A stable, locally administered unicast MAC for NIC `index` of `guest` in the lab `id`:
 * `02:` + 5 bytes of sha256. Same inputs, same MAC, across runs and hosts.
 */
export function stableMac(id: string, guest: string, index: number): string {
  const h = shortHash(`${id}\0${guest}\0${index}`, 10);
  return ["02", ...(h.match(/../g) as string[])].join(":");
}

/** The lab's network namespace, shared by all its taps: `umlab-<labId>` (labId = basename of labDir). */
export function namespaceOf(labDir: string): string {
  return `umlab-${path.basename(labDir)}`;
}

/** A Tap's log (the output of its vde_plug2tap). */
export function tapLogPath(labDir: string, name: string): string {
  return `${labPaths(labDir).tapsDir}/${name}.log`;
}

/** A Capture's pcap file (the author's `file`, else one in the lab dir) and log. */
export function capturePaths(labDir: string, name: string, file?: string): { file: string; log: string } {
  const dir = labPaths(labDir).capturesDir;
  return { file: file ?? `${dir}/${name}.pcap`, log: `${dir}/${name}.log` };
}

export interface CablePaths {
  dir: string;
  /** End A and end B: each the prefix of two FIFOs, `.in` (the guest reads) and `.out`. */
  a: string;
  b: string;
  fifos: string[];
  /** The relay's log (the byte dump when `log` is on). */
  log: string;
}

export function cablePaths(labDir: string, name: string): CablePaths {
  const dir = labPaths(labDir).cablesDir;
  const base = `${dir}/${name}`;
  return {
    dir,
    a: `${base}.a`,
    b: `${base}.b`,
    fifos: [`${base}.a.in`, `${base}.a.out`, `${base}.b.in`, `${base}.b.out`],
    log: `${base}.log`,
  };
}

export interface ImpairmentPaths {
  dir: string;
  /** The private vde_switch's control directory (what guests plug into). */
  control: string;
  pidFile: string;
  log: string;
  filterPid: string;
  filterLog: string;
}

export function impairmentPaths(labDir: string, name: string): ImpairmentPaths {
  const dir = labPaths(labDir).impairmentsDir;
  const base = `${dir}/${name}`;
  return {
    dir,
    control: base,
    pidFile: `${base}.pid`,
    log: `${base}.log`,
    filterPid: `${base}.wf.pid`,
    filterLog: `${base}.wf.log`,
  };
}

/**
 * The socket every vde client (a guest NIC, vde_plug, vde_plug2tap, wirefilter) binds in the
 * switch's control directory: libvdeplug names it `.%05d-%05d` (its pid, a counter). Counted
 * at its longest: pid_max is at most 2^22 (7 digits).
 */
const VDE_PORT_SOCKET = ".0000000-00000";

/**
 * Every unix socket a lab dir implies for a name, whichever component bears it: a guest's
 * mconsole, a switch's control socket (uml_switch) or directory (vde), an impairment's private
 * switch, and the port sockets vde clients bind inside a vde control directory. Taps, captures
 * and cables make none of their own (they plug into a switch's directory; cables are FIFOs).
 * check() refuses a name when any of these would not fit in sun_path.
 */
export function labSocketPaths(labDir: string, name: string): string[] {
  const vdeDirs = [switchPaths(labDir, name, "vde").control, impairmentPaths(labDir, name).control];
  return [
    guestPaths(labDir, name).mconsole,
    switchPaths(labDir, name, "uml_switch").socket,
    ...vdeDirs.flatMap((d) => [`${d}/ctl`, `${d}/${VDE_PORT_SOCKET}`]),
  ];
}

/** The longest of `labSocketPaths`: the one the sun_path rule must check. */
export function longestSocketPath(labDir: string, name: string): string {
  return labSocketPaths(labDir, name).reduce((a, b) => (b.length > a.length ? b : a));
}
