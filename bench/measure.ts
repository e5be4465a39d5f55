// Small measuring helpers shared by the benchmark modules (no bench* exports: the runner
// in bench/index.ts skips this module).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fileBackendUrl } from "../cli/toolchain";
import type { Stack } from "@pulumi/pulumi/automation";
import { run, processAlive, signalGroup, waitFor } from "../provider/host/process";
import { killGroupsMentioning } from "../tests/helpers/lab";

/** Run `f` and return its value with the wall time it took, in seconds. */
export async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const v = await f();
  return [v, Number(process.hrtime.bigint() - t0) / 1e9];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The repository root: the nearest parent holding `marker` (works from bench/ and dist/bench/). */
export function repoRoot(marker: string): string {
  let d = __dirname;
  while (!fs.existsSync(path.join(d, marker))) {
    const up = path.dirname(d);
    if (up === d) throw new Error(`bench: cannot find ${marker} above ${__dirname}`);
    d = up;
  }
  return d;
}

/** A bench's Pulumi workspace: the example's folder, a scratch dir with a file backend, a runtime root. */
export function labWorkspace(
  example: string,
  tag: string,
  folder = "examples",
): { workDir: string; scratch: string; runtime: string; env: Record<string, string> } {
  const workDir = path.join(repoRoot(`${folder}/${example}/Pulumi.yaml`), folder, example);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `umlab-bench-${tag}-`));
  const runtime = fs.mkdtempSync(`/tmp/ub${tag[0]}-`);
  fs.mkdirSync(path.join(scratch, "state"));
  const env: Record<string, string> = {
    PULUMI_BACKEND_URL: fileBackendUrl(path.join(scratch, "state")),
    PULUMI_CONFIG_PASSPHRASE: "umlab-bench",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    UMLAB_RUNTIME: runtime,
  };
  return { workDir, scratch, runtime, env };
}

/**
 * A bench's stack and workspace gone, whatever state they are in: destroy (continuing past
 * errors), the stack removed with its config file, whatever still runs under the runtime root
 * killed, the scratch dir and the runtime root removed.
 */
export async function disposeBench(
  stack: Stack,
  w: { workDir: string; scratch: string; runtime: string },
): Promise<void> {
  await stack.destroy({ continueOnError: true }).catch(() => undefined);
  await stack.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
  fs.rmSync(path.join(w.workDir, `Pulumi.${stack.name}.yaml`), { force: true });
  killGroupsMentioning(w.runtime);
  fs.rmSync(w.runtime, { recursive: true, force: true });
  fs.rmSync(w.scratch, { recursive: true, force: true });
}

/**
 * Proportional set size (KiB) of a guest's process group. UML's helper threads are
 * separate pids sharing one address space (CLONE_VM), and each reports that same memory:
 * count each address space once (identical smaps_rollup bodies).
 */
export function groupPssKiB(pgid: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (pgidOf(Number(e)) !== pgid) continue;
      const body = fs.readFileSync(`/proc/${e}/smaps_rollup`, "utf8").split("\n").slice(1).join("\n");
      if (seen.has(body)) continue;
      seen.add(body);
      const m = /^Pss:\s+(\d+) kB/m.exec(body);
      if (m) total += Number(m[1]);
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}

/** CPU time (user + system, seconds) of every process in these process groups, from /proc/<pid>/stat. */
export function groupCpuSeconds(pgids: Iterable<number>): number {
  const want = new Set(pgids);
  let ticks = 0;
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const st = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      if (want.has(Number(f[2]))) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone meanwhile */
    }
  }
  return ticks / 100;
}

/** The cores these process groups keep busy, averaged over `seconds`. */
export async function idleCores(pgids: number[], seconds: number): Promise<number> {
  const a = groupCpuSeconds(pgids);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (groupCpuSeconds(pgids) - a) / seconds;
}

/** The process group of a pid (from /proc/<pid>/stat; throws when it is gone). */
export function pgidOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

// The floor: what a person would type to get the same lab (one uml_switch, N busybox guests
// on COW disks over one image, 10.0.0.i/24), waiting for the same readiness (polled every
// 20 ms, as the Guest provider polls it).
const PLAIN_SCRIPT = `
set -e
D=$1; B=$2; N=$3
mkdir -p "$D/uml"
setsid uml_switch -unix "$D/sw.ctl" </dev/null >"$D/sw.log" 2>&1 &
echo $! >> "$D/pids"
while [ ! -S "$D/sw.ctl" ]; do sleep 0.01; done
for i in $(seq 1 $N); do
  G="$D/g$i"; mkdir -p "$G/state"
  printf 'hostname g%s\\naddr eth0 10.0.0.%s/24\\n' $i $i > "$G/config"
  setsid linux.uml mem=64M ubd0="$D/g$i.cow,$B" root=/dev/ubda rw uml_dir="$D/uml" umid=g$i \\
    con=null con0=null,fd:1 ssl=null eth0=daemon,,unix,"$D/sw.ctl" \\
    init=/sbin/umlab-init umlab.dir="$G" </dev/null >"$G/console.log" 2>&1 &
  echo $! >> "$D/pids"
done
for i in $(seq 1 $N); do while [ ! -e "$D/g$i/state/ready" ]; do sleep 0.02; done; done
`;

/**
 * The plain teardown of PLAIN_SCRIPT's lab (the floor of `pulumi destroy`): halt every guest
 * through its mconsole at once, wait until each has exited, stop the switch, remove the COW files.
 */
const PLAIN_DOWN = `
D=$1; N=$2
for i in $(seq 1 $N); do uml_mconsole "$D/uml/g$i/mconsole" halt >/dev/null 2>&1 & done; wait
tail -n +2 "$D/pids" | while read -r p; do while kill -0 "$p" 2>/dev/null; do sleep 0.02; done; done
kill "$(head -n 1 "$D/pids")"; rm -f "$D"/g*.cow
`;

/**
 * The plain lab of `n` guests, timed until every guest is ready; `whileUp` gets the guests'
 * pids; then its plain teardown, timed too (`downSeconds`).
 */
export async function plainScriptUp(
  backing: string,
  n: number,
  whileUp?: (guestPids: number[]) => Promise<void>,
): Promise<{ seconds: number; downSeconds: number }> {
  let downSeconds = 0;
  let dir = "";
  const seconds = await timePlainScript("ubs", PLAIN_SCRIPT, backing, (d) => void (dir = d), {
    args: [String(n)],
    whileUp: async (pids) => {
      if (whileUp) await whileUp(pids.slice(1));
      const file = path.join(dir, "down.sh");
      fs.writeFileSync(file, PLAIN_DOWN);
      downSeconds = (await timed(() => run("bash", [file, dir, String(n)], { timeoutMs: 120_000 })))[1];
    },
  });
  return { seconds, downSeconds };
}

/**
 * A plain-script floor: write the guest folders into a fresh /tmp dir (`prepare`), time
 * `bash <script> <dir> <backing> [args]`, call `whileUp` with the pids it listed in
 * `<dir>/pids`, then kill every one of those process groups (each started with setsid) and
 * remove the dir.
 */
export async function timePlainScript(
  prefix: string,
  script: string,
  backing: string,
  prepare: (dir: string) => void,
  opts: { args?: string[]; whileUp?: (pids: number[]) => Promise<void> } = {},
): Promise<number> {
  const dir = fs.mkdtempSync(`/tmp/${prefix}-`);
  const pidFile = path.join(dir, "pids");
  const listed = () =>
    fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8").trim().split("\n").map(Number) : [];
  try {
    prepare(dir);
    const file = path.join(dir, "plain.sh");
    fs.writeFileSync(file, script);
    const [, secs] = await timed(() =>
      run("bash", [file, dir, backing, ...(opts.args ?? [])], { timeoutMs: 600_000 }),
    );
    if (opts.whileUp) await opts.whileUp(listed());
    return secs;
  } finally {
    const pids = listed();
    for (const pid of pids) signalGroup(pid, "SIGKILL");
    await waitFor(() => pids.every((p) => !processAlive(p)), 10_000 + pids.length * 100);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
