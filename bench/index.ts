// `npm run bench`: runs every benchmark module in bench/ (each exports async functions named
// bench*) and prints each figure beside its baseline from the same run, as a ratio. These
// machines are shared and noisy: figures are for comparison, never pass/fail.
// Run one module: npm run bench -- image   (ha: the ha-cluster drills' outages, bench/ha.ts)
import * as fs from "fs";
import * as path from "path";

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The same measure for the floor (e.g. a plain script), measured in the same run. */
  baseline?: number;
  /** What the baseline is, e.g. "plain shell script". */
  baselineLabel?: string;
  /** A target ratio or value, shown for reference. */
  target?: string;
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function formatFigure(f: Figure): string {
  let line = `${f.name.padEnd(48)} ${fmt(f.value).padStart(10)} ${f.unit}`;
  if (f.baseline !== undefined) {
    const ratio = f.baseline === 0 ? "n/a" : `${(f.value / f.baseline).toFixed(2)}x`;
    line += `   baseline ${fmt(f.baseline)} ${f.unit}${f.baselineLabel ? ` (${f.baselineLabel})` : ""}   ratio ${ratio}`;
  }
  if (f.target) line += `   target ${f.target}`;
  return line;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const dir = __dirname;
  const modules = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".js") && f !== "index.js")
    .filter((f) => only.length === 0 || only.includes(f.replace(/\.js$/, "")));
  const all: Figure[] = [];
  let failed = 0;
  for (const file of modules) {
    const mod = require(path.join(dir, file));
    for (const [name, fn] of Object.entries(mod)) {
      if (!name.startsWith("bench") || typeof fn !== "function") continue;
      console.log(`\n== ${file.replace(/\.js$/, "")}.${name}`);
      try {
        const figures = (await (fn as () => Promise<Figure[]>)()) ?? [];
        for (const f of figures) console.log(formatFigure(f));
        all.push(...figures);
      } catch (e) {
        failed++;
        console.log(`benchmark ${name} failed: ${(e as Error).stack ?? e}`);
      }
    }
  }
  const out = path.resolve(dir, "../../.umlab-test/bench.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), figures: all }, null, 2));
  console.log(`\n${all.length} figures (also in ${path.relative(process.cwd(), out)})`);
  process.exit(failed === 0 ? 0 : 1);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
