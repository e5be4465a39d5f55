// umlab graph [--stack <stack>] [--format dot|mermaid|svg] [--out <file>]: a picture of the lab
// from the stack's state (graph-model.ts: what is in it; graph-render.ts: DOT and Mermaid; SVG
// is graphviz's `dot -Tsvg` of the DOT).
import * as fs from "fs";
import { run } from "../provider/host/process";
import { UsageError } from "./args";
import { exportStack } from "./state";
import { graphOfState } from "./graph-model";
import { toDot, toMermaid } from "./graph-render";

export const GRAPH_FORMATS = ["dot", "mermaid", "svg"] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export interface GraphArgs {
  stack?: string;
  format: GraphFormat;
  out?: string;
}

/** Parse `umlab graph` arguments (pure). The format defaults from --out's suffix, else dot. */
export function parseGraphArgs(args: string[], env: Record<string, string | undefined> = {}): GraphArgs {
  let stack = env.UMLAB_STACK || undefined;
  let format: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].startsWith("--") ? args[i].split(/=(.*)/s, 2) : [args[i], undefined];
    if (flag !== "--stack" && flag !== "--format" && flag !== "--out")
      throw new UsageError(`graph: unexpected argument "${args[i]}" (use --stack, --format, --out)`);
    const v = inline ?? args[++i];
    if (v === undefined || v === "") throw new UsageError(`graph: ${flag} needs a value`);
    if (flag === "--stack") stack = v;
    else if (flag === "--format") format = v;
    else out = v;
  }
  format ??= out?.endsWith(".svg") ? "svg" : out?.match(/\.(mmd|mermaid)$/) ? "mermaid" : "dot";
  if (!(GRAPH_FORMATS as readonly string[]).includes(format))
    throw new UsageError(`graph: --format wants dot, mermaid or svg, not "${format}"`);
  return { stack, format: format as GraphFormat, out };
}

/** DOT to SVG with graphviz's dot (argv only; the DOT on stdin). */
export async function dotToSvg(dot: string): Promise<string> {
  let r;
  try {
    r = await run("dot", ["-Tsvg"], { input: dot, timeoutMs: 60_000, allowFailure: true });
  } catch (e) {
    throw new UsageError(
      `graph: could not run graphviz's dot (${(e as Error).message}): install it (apt-get install graphviz, or npm run setup)`,
    );
  }
  if (r.code !== 0) throw new UsageError(`graph: dot -Tsvg failed: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function cmdGraph(args: string[]): Promise<number> {
  const a = parseGraphArgs(args, process.env);
  const e = await exportStack(process.cwd(), a.stack);
  if (!e)
    throw new UsageError(
      `graph: no state for ${a.stack ? `stack "${a.stack}"` : "the selected stack"}: run it in the lab's project folder (where Pulumi.yaml is) and give --stack <stack> (pulumi stack ls lists them)`,
    );
  const g = graphOfState(e.exported, e.stack);
  if (g.nodes.length === 0) console.error(`umlab: stack "${e.stack}" has no umlab resources (is it up?)`);
  const dot = toDot(g);
  const text = a.format === "mermaid" ? toMermaid(g) : a.format === "svg" ? await dotToSvg(dot) : dot;
  if (a.out) {
    fs.writeFileSync(a.out, text);
    console.error(`umlab: wrote the graph of stack "${e.stack}" to ${a.out} (${a.format})`);
  } else process.stdout.write(text);
  return 0;
}
