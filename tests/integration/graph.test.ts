// `umlab graph` of the OSPF ring (examples/ospf-ring) on real UML: the DOT parses (graphviz's
// `dot -Tsvg` succeeds) and has every guest, switch and link; the Mermaid passes the strict
// structural check; the CLI finds guests through the stack's state (`ls`/`exec --stack`) and
// refuses a stack that has no lab here instead of guessing from the runtime root.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { labSandbox, LabSandbox, runUmlab } from "../helpers/lab";
import { parseMermaid } from "../helpers/mermaid";

const workDir = path.join(REPO, "examples/ospf-ring");
const NODES = ["node01", "node02", "node03", "node04"];
const SWITCHES = ["switch1", "switch2", "switch3", "switch4"];

describe("umlab graph of the OSPF ring, and the CLI through the stack's state", () => {
  let sandbox: LabSandbox | undefined;
  let t: TestStack;
  const stack = `h15g-ring${process.pid}`;

  beforeAll(async () => {
    sandbox = labSandbox("graph", "ugr");
    t = await testStack(workDir, stack, { bfd: "false" });
  }, 60_000);

  afterAll(async () => {
    if (t) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 300_000);

  const umlab = (args: string[], input?: string) => {
    const r = runUmlab(args, { cwd: workDir, env: t.env, input });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  };

  test("the ring comes up", async () => {
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
  }, 900_000);

  test("DOT: dot -Tsvg renders it; every guest, switch and guest-switch link with its addresses is in it", () => {
    const g = umlab(["graph", "--stack", stack, "--format", "dot"]);
    expect(g.stderr).toBe("");
    expect(g.code).toBe(0);
    const svg = child_process.spawnSync("dot", ["-Tsvg"], { input: g.stdout, encoding: "utf8" });
    expect(svg.stderr).toBe("");
    expect(svg.status).toBe(0);
    expect(svg.stdout).toContain("<svg");
    const id = new Map<string, string>();
    for (const m of g.stdout.matchAll(/^ {2}(n[0-9]+) \[label="([a-z0-9]+)\\n/gm)) id.set(m[2], m[1]);
    for (const n of [...NODES, ...SWITCHES]) expect([n, id.has(n)]).toEqual([n, true]);
    // Link N is switchN between node0N (eth0, 192.168.N.N) and node0(N+1) (eth1, 192.168.N.(N+1)).
    for (let n = 1; n <= 4; n++) {
      const next = (n % 4) + 1;
      const sw = id.get(`switch${n}`);
      expect(g.stdout).toContain(`${id.get(`node0${n}`)} -- ${sw} [label="eth0 192.168.${n}.${n}/24"]`);
      expect(g.stdout).toContain(`${id.get(`node0${next}`)} -- ${sw} [label="eth1 192.168.${n}.${next}/24"]`);
    }
    expect(g.stdout.match(/ -- /g)).toHaveLength(8);
  });

  test("Mermaid: passes the structural check, with the same guests, switches and links", () => {
    const g = umlab(["graph", "--stack", stack, "--format", "mermaid"]);
    expect(g.code).toBe(0);
    const mm = parseMermaid(g.stdout);
    expect(mm.problems).toEqual([]);
    const names = [...mm.nodes.values()].map((l) => l.split("\n")[0]).sort();
    expect(names).toEqual([...NODES, ...SWITCHES].sort());
    expect(mm.edges).toHaveLength(8);
  });

  test("SVG through --out; a stack with no state here is refused naming it", () => {
    const out = path.join(sandbox!.scratch, "ring.svg");
    const g = umlab(["graph", "--stack", stack, "--out", out]);
    expect(g.code).toBe(0);
    expect(fs.readFileSync(out, "utf8")).toContain("<svg");
    if (process.env.UMLAB_GRAPH_OUT) fs.copyFileSync(out, process.env.UMLAB_GRAPH_OUT);
    const none = umlab(["graph", "--stack", "h15g-nosuchstack"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no state for stack "h15g-nosuchstack"');
  });

  test("ls and exec find the guests through the stack's state and say which stack", () => {
    const ls = umlab(["ls", "--stack", stack]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain(`(stack ${stack})`);
    for (const n of NODES) expect(ls.stdout).toMatch(new RegExp(`${n}\\s+running \\(pid`));
    const ex = umlab(["exec", "--stack", stack, "node03", "--", "hostname"]);
    expect(ex.stdout.trim()).toBe("node03");
    expect(ex.code).toBe(0);
    // Another stack name: no guessing from the runtime root (where node03 is).
    const other = umlab(["exec", "--stack", "h15g-nosuchstack", "node03", "--", "hostname"]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('stack "h15g-nosuchstack" records no lab here');
    expect(other.stdout).toBe("");
  });
});
