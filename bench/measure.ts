// Small measuring helpers shared by the benchmark modules (no bench* exports: the runner
// in bench/index.ts skips this module).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fileBackendUrl } from "../cli/toolchain";
import { run, processAlive, signalGroup, waitFor } from "../provider/host/process";

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
): { workDir: string; scratch: string; runtime: string; env: Record<string, string> } {
  const workDir = path.join(repoRoot(`examples/${example}/Pulumi.yaml`), "examples", example);
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
 * A plain-script floor: write the guest folders into a fresh /tmp dir (`prepare`), time
 * `bash <script> <dir> <backing>`, then kill every process group it listed in `<dir>/pids`
 * (each started with setsid) and remove the dir.
 */
export async function timePlainScript(
  prefix: string,
  script: string,
  backing: string,
  prepare: (dir: string) => void,
): Promise<number> {
  const dir = fs.mkdtempSync(`/tmp/${prefix}-`);
  try {
    prepare(dir);
    const file = path.join(dir, "plain.sh");
    fs.writeFileSync(file, script);
    const [, secs] = await timed(() => run("bash", [file, dir, backing], { timeoutMs: 600_000 }));
    return secs;
  } finally {
    const pidFile = path.join(dir, "pids");
    const pids = fs.existsSync(pidFile)
      ? fs.readFileSync(pidFile, "utf8").trim().split("\n").map(Number)
      : [];
    for (const pid of pids) signalGroup(pid, "SIGKILL");
    await waitFor(() => pids.every((p) => !processAlive(p)), 10_000);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
