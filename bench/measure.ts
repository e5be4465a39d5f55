// Small measuring helpers shared by the benchmark modules (no bench* exports: the runner
// in bench/index.ts skips this module).
import * as fs from "fs";
import * as path from "path";

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
