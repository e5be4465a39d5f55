// Pure naming for a lab: ids, runtime paths and stable MACs, all derived from
// project + stack (+ resource names), so two stacks of one program never collide.
// No I/O here; the handlers and the SDK both call these.
import * as crypto from "crypto";

/** Unix socket paths (sun_path) hold at most 107 bytes plus the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

export const DEFAULT_RUNTIME_ROOT = "/var/tmp/umlab";

/** The runtime root: `$UMLAB_RUNTIME`, else /var/tmp/umlab. */
export function runtimeRoot(env: Record<string, string | undefined> = {}): string {
  const r = env.UMLAB_RUNTIME;
  return r && r.trim() !== "" ? r.replace(/\/+$/, "") : DEFAULT_RUNTIME_ROOT;
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
}

export function labPaths(labDir: string): LabPaths {
  return {
    dir: labDir,
    umlDir: `${labDir}/uml`,
    guestsDir: `${labDir}/g`,
    switchesDir: `${labDir}/sw`,
    disksDir: `${labDir}/disk`,
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

/** The socket paths a lab dir implies for a name; check() rejects any that are too long. */
export function longestSocketPath(labDir: string, name: string): string {
  const candidates = [
    guestPaths(labDir, name).mconsole,
    switchPaths(labDir, name, "vde").socket,
    switchPaths(labDir, name, "uml_switch").socket,
  ];
  return candidates.reduce((a, b) => (b.length > a.length ? b : a));
}
