// umlab graph: the topology model from state, and its DOT and Mermaid text (hostile names
// neither break nor inject into either).
import * as fc from "fast-check";
import { graphOfState, Graph } from "../../../cli/graph-model";
import { toDot, toMermaid, dotText, mermaidText } from "../../../cli/graph-render";
import { parseGraphArgs } from "../../../cli/graph";
import { parseMermaid } from "../../helpers/mermaid";

const T = (t: string) => `pulumi-nodejs:dynamic/umlab:${t}`;
const L = "/var/tmp/umlab-0/q-dev-1";

/** A state with every kind of thing the graph shows. */
function state(guestName = "g1") {
  const res = (type: string, name: string, outputs: Record<string, unknown>) => ({
    type: T(type),
    urn: `urn:pulumi:dev::q::${T(type)}::${name}`,
    outputs: { name, labDir: L, ...outputs },
  });
  return {
    version: 3,
    deployment: {
      resources: [
        { type: "pulumi:pulumi:Stack", urn: "urn:pulumi:dev::q::pulumi:pulumi:Stack::q-dev", outputs: {} },
        res("LabRuntime", "lab-runtime", { dir: L }),
        res("Switch", "sw0", { engine: "vde", control: `${L}/sw/sw0.ctl` }),
        res("Switch", "sw1", { engine: "uml_switch", control: `${L}/sw/sw1.ctl`, suspended: true }),
        res("Impairment", "lossy", {
          control: `${L}/imp/lossy`,
          upstream: `${L}/sw/sw0.ctl`,
          lossPercent: 20,
          delayMs: 5,
        }),
        res("SerialCable", "null-modem", {
          endA: `cable:${L}/ser/c.a`,
          endB: `cable:${L}/ser/c.b`,
          suspended: true,
        }),
        res("SharedDisk", "shared", { path: `${L}/shared/shared.img`, sizeMiB: 64, filesystem: "ext4" }),
        res("Tap", "host0", { control: `${L}/sw/sw0.ctl`, device: "host0", addresses: ["10.0.0.254/24"] }),
        res("Capture", "cap", { mode: "plug", control: `${L}/sw/sw1.ctl`, path: `${L}/cap/cap.pcap` }),
        res("Guest", guestName, {
          memory: "64M",
          paused: true,
          nics: [
            { control: `${L}/sw/sw0.ctl`, addresses: ["10.0.0.1/24"] },
            { control: `${L}/imp/lossy`, addresses: ["10.1.0.1/24"], linkDown: true },
            { control: `${L}/sw/sw1.ctl`, addresses: [], netem: { lossPercent: 0, delayMs: 30 } },
            { control: "/elsewhere/other.ctl", addresses: [] },
          ],
          serial: ["null", `cable:${L}/ser/c.a`],
          disks: [{ path: `${L}/g/${guestName}/root.cow` }, { path: `${L}/shared/shared.img` }],
        }),
        res("Guest", "g2", {
          nics: [{ control: `${L}/sw/sw1.ctl`, addresses: ["10.2.0.2/24"] }],
          serial: ["null", `cable:${L}/ser/c.b`],
          disks: [],
        }),
      ],
    },
  };
}

const edge = (g: Graph, from: string, to: string) => {
  const id = (n: string) => g.nodes.find((x) => x.name === n)?.id;
  return g.edges.filter((e) => e.from === id(from) && e.to === id(to));
};

describe("umlab graph: the model from state", () => {
  test("every guest, switch, impairment, tap, capture, cable and shared disk, linked by the paths in state", () => {
    const g = graphOfState(state(), "dev");
    expect(g.nodes.map((n) => `${n.kind}:${n.name}`).sort()).toEqual(
      [
        "switch:sw0",
        "switch:sw1",
        "impairment:lossy",
        "cable:null-modem",
        "disk:shared",
        "tap:host0",
        "capture:cap",
        "guest:g1",
        "guest:g2",
        "missing:other.ctl",
      ].sort(),
    );
    expect(edge(g, "g1", "sw0")).toEqual([expect.objectContaining({ label: "eth0 10.0.0.1/24" })]);
    expect(edge(g, "g1", "sw0")[0].fault).toBeUndefined();
    expect(edge(g, "g1", "lossy")[0]).toMatchObject({ label: "eth1 10.1.0.1/24", fault: "link down" });
    expect(edge(g, "g1", "sw1")[0]).toMatchObject({ label: "eth2", fault: "delay 30ms, switch suspended" });
    expect(edge(g, "lossy", "sw0")[0]).toMatchObject({ fault: "loss 20%, delay 5ms" });
    expect(edge(g, "g1", "null-modem")[0]).toMatchObject({
      label: "ttyS1 (end A)",
      fault: "cable suspended",
    });
    expect(edge(g, "g2", "null-modem")[0]).toMatchObject({ label: "ttyS1 (end B)" });
    expect(edge(g, "g1", "shared")[0]).toMatchObject({ label: "ubd1" });
    expect(edge(g, "host0", "sw0")[0]).toMatchObject({ label: "10.0.0.254/24" });
    expect(edge(g, "cap", "sw1")).toHaveLength(1);
    expect(edge(g, "g1", "other.ctl")[0].label).toBe("eth3");
    expect(g.nodes.find((n) => n.name === "g1")?.fault).toBe("paused");
    // The per-guest COW root is no node: only shared disks are.
    expect(g.edges.filter((e) => e.label === "ubd0")).toEqual([]);
  });

  test("a state with no umlab resources, or not a state at all, is an empty graph, not a crash", () => {
    for (const bad of [
      {},
      null,
      "x",
      { deployment: { resources: "no" } },
      { deployment: { resources: [null, 3, { type: T("Guest") }] } },
    ])
      expect(graphOfState(bad, "s")).toEqual({ stack: "s", nodes: [], edges: [] });
  });
});

/** A small DOT tokenizer: quoted strings decoded, the rest as punctuation and bare ids. */
function dotStatements(dot: string): { nodes: Map<string, string>; edges: [string, string, string][] } {
  const body = dot.slice(dot.indexOf("{") + 1, dot.lastIndexOf("}"));
  const tokens: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|(--|[[\]=,;{}])|([A-Za-z0-9_.#]+))/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < body.trimEnd().length && (m = re.exec(body)))
    tokens.push(
      m[1] !== undefined
        ? `"${m[1].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c))}`
        : (m[2] ?? m[3]),
    );
  expect(re.lastIndex).toBeGreaterThanOrEqual(body.trimEnd().length); // every character is a token
  const nodes = new Map<string, string>();
  const edges: [string, string, string][] = [];
  const label = (attrs: string[]) => (attrs[attrs.indexOf("label") + 2] ?? "").slice(1);
  for (let i = 0; i < tokens.length;) {
    const end = tokens.indexOf(";", i);
    const st = tokens.slice(i, end);
    i = end + 1;
    if (["graph", "node", "edge"].includes(st[0])) continue;
    if (st[1] === "--") edges.push([st[0], st[2], label(st.slice(3))]);
    else nodes.set(st[0], label(st.slice(1)));
  }
  return { nodes, edges };
}

const HOSTILE = [
  'a"b',
  "x --> y",
  'evil"]; n99["injected',
  "line\nbreak",
  "back\\N\\slash\\",
  "pipe|<b>%%#35;`md`;{}",
  "é-ünï-💥",
];

describe("umlab graph: DOT and Mermaid text", () => {
  test.each(HOSTILE)("a guest named %j stays one node with its name as the label", (name) => {
    const g = graphOfState(state(name), "dev");
    const dot = dotStatements(toDot(g));
    expect(dot.nodes.size).toBe(g.nodes.length);
    expect(dot.edges).toHaveLength(g.edges.length);
    const id = g.nodes.find((n) => n.kind === "guest" && n.name === name)!.id;
    expect(dot.nodes.get(id)!.split("\n")[0]).toBe(name.replace(/\n/g, " "));

    const mm = parseMermaid(toMermaid(g));
    expect(mm.problems).toEqual([]);
    expect(mm.nodes.size).toBe(g.nodes.length);
    expect(mm.edges).toHaveLength(g.edges.length);
    expect(mm.nodes.get(id)!.split("\n")[0]).toBe(name.replace(/\n/g, " "));
  });

  test("the Mermaid check refuses what would break a flowchart (it can fail)", () => {
    const ok = toMermaid(graphOfState(state(), "dev"));
    expect(parseMermaid(ok).problems).toEqual([]);
    const broken = [
      ok.replace('"g1', '"g"1'), // a bare quote in a label
      ok.replace("flowchart LR", "graph"),
      ok.replace(/ {2}n0\{\{/, "  n0 --> n1\n  n0{{"), // an arrow the renderer never writes
      ok.replace("linkStyle 5", "linkStyle 99"),
      ok + "  n0 --- n999\n",
    ];
    for (const b of broken) expect(parseMermaid(b).problems).not.toEqual([]);
  });

  test("escapers: DOT keeps only escaped quotes and backslashes, Mermaid only safe characters and entity codes", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const d = dotText(s);
        expect(d).not.toMatch(/[\n\r]/);
        expect(d.replace(/\\\\|\\"/g, "")).not.toMatch(/["\\]/);
        expect(mermaidText(s)).toMatch(/^(?:[A-Za-z0-9 ._:/,=+@()-]|#[0-9]+;)*$/);
      }),
    );
  });

  test("any guest name keeps the Mermaid valid and the DOT one node per guest", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (name) => {
        const g = graphOfState(state(name || "x"), "dev");
        expect(parseMermaid(toMermaid(g)).problems).toEqual([]);
        expect(dotStatements(toDot(g)).nodes.size).toBe(g.nodes.length);
      }),
      { numRuns: 200 },
    );
  });
});

describe("umlab graph: arguments", () => {
  test("format from --format, else from --out's suffix, else dot; --stack or $UMLAB_STACK", () => {
    expect(parseGraphArgs([])).toEqual({ format: "dot" });
    expect(parseGraphArgs(["--out", "x.svg"])).toMatchObject({ format: "svg", out: "x.svg" });
    expect(parseGraphArgs(["--out=x.mmd"])).toMatchObject({ format: "mermaid" });
    expect(parseGraphArgs(["--format", "mermaid", "--out", "x.svg"])).toMatchObject({ format: "mermaid" });
    expect(parseGraphArgs([], { UMLAB_STACK: "s1" })).toMatchObject({ stack: "s1" });
    expect(parseGraphArgs(["--stack=s2"], { UMLAB_STACK: "s1" })).toMatchObject({ stack: "s2" });
  });
  test("bad arguments name the option and the fix", () => {
    expect(() => parseGraphArgs(["--format", "png"])).toThrow(
      /--format wants dot, mermaid or svg, not "png"/,
    );
    expect(() => parseGraphArgs(["--stack"])).toThrow(/--stack needs a value/);
    expect(() => parseGraphArgs(["g1"])).toThrow(/unexpected argument "g1"/);
  });
});
