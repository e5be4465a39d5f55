// `umlab graph`, the model (pure: no I/O): a lab's topology from the resources of a stack's
// state (`pulumi stack export`): guests, switches, impairments, taps, captures, serial cables
// and shared disks as nodes; NICs, cable ends and disk attachments as links, matched by the
// paths the state records (a NIC's `control` is its switch's `control`, a guest's serial entry
// `cable:<end>` is a cable's endA/endB, a disk's `path` is a SharedDisk's `path`). Faults show
// where they act: a suspended switch or cable, a paused guest, a NIC whose link is down or
// that has netem, an Impairment's loss/delay/rate on its link to the real switch.
// Rendering to DOT and Mermaid: cli/graph-render.ts.

export type NodeKind = "guest" | "switch" | "impairment" | "tap" | "capture" | "cable" | "disk" | "missing";

export interface GraphNode {
  /** A generated id (n0, n1, ...): never a user string, so it needs no quoting anywhere. */
  id: string;
  kind: NodeKind;
  /** The resource's name (user text: renderers escape it). */
  name: string;
  /** Further lines: addresses, engine, state. */
  details: string[];
  /** A fault acts on it (suspended switch or cable, paused guest). */
  fault?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  label: string;
  /** Down, impaired or suspended: drawn dashed, the reason in the label. */
  fault?: string;
}

export interface Graph {
  stack: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

interface StateResource {
  type?: unknown;
  urn?: unknown;
  outputs?: Record<string, unknown>;
}

const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined ? "" : String(v));
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** The umlab type of a state resource (`pulumi-nodejs:dynamic/umlab:Guest` -> Guest). */
export function umlabType(type: unknown): string | undefined {
  const m = /^pulumi-nodejs:dynamic\/umlab:([A-Za-z]+)$/.exec(str(type));
  return m ? m[1] : undefined;
}

/** The resource's name: its outputs' `name`, else the last segment of its URN. */
function nameOf(r: StateResource): string {
  const n = str(r.outputs?.name);
  if (n) return n;
  const urn = str(r.urn);
  return urn.slice(urn.lastIndexOf("::") + 2) || "?";
}

/** netem settings as words ("loss 5%, delay 20ms"); "" when none. */
export function netemText(netem: unknown): string {
  const n = obj(netem);
  const parts: string[] = [];
  if (Number(n.lossPercent) > 0) parts.push(`loss ${Number(n.lossPercent)}%`);
  if (Number(n.delayMs) > 0) parts.push(`delay ${Number(n.delayMs)}ms`);
  if (Number(n.jitterMs) > 0) parts.push(`jitter ${Number(n.jitterMs)}ms`);
  if (Number(n.rateKbit) > 0) parts.push(`rate ${Number(n.rateKbit)}kbit`);
  return parts.join(", ");
}

/** The graph of the umlab resources in an exported deployment. */
export function graphOfState(exported: unknown, stack: string): Graph {
  const resources = arr(obj(obj(exported).deployment).resources).map(obj) as StateResource[];
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const add = (kind: NodeKind, name: string, details: string[], fault?: string): GraphNode => {
    const n: GraphNode = { id: `n${nodes.length}`, kind, name, details, ...(fault ? { fault } : {}) };
    nodes.push(n);
    return n;
  };
  const byControl = new Map<string, GraphNode>();
  const byCableEnd = new Map<string, { node: GraphNode; end: string }>();
  const byDiskPath = new Map<string, GraphNode>();
  const missing = new Map<string, GraphNode>();
  /** A node for a path no resource in the state has (another stack's switch, a deleted one). */
  const unknownAt = (what: string, p: string): GraphNode => {
    const key = `${what} ${p}`;
    let n = missing.get(key);
    if (!n) {
      n = add("missing", p.slice(p.lastIndexOf("/") + 1) || p, [`${what} not in this stack: ${p}`]);
      missing.set(key, n);
    }
    return n;
  };
  const of = (t: string) =>
    resources
      .filter((r) => umlabType(r.type) === t && Object.keys(obj(r.outputs)).length > 0)
      .sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0)); // stable output

  for (const r of of("Switch")) {
    const o = r.outputs!;
    const details = [str(o.engine) || "uml_switch", ...(o.hub === true ? ["hub"] : [])];
    const n = add("switch", nameOf(r), details, o.suspended === true ? "suspended" : undefined);
    if (str(o.control)) byControl.set(str(o.control), n);
  }
  const impairments = of("Impairment").map((r) => {
    const o = r.outputs!;
    const n = add("impairment", nameOf(r), ["wirefilter"]);
    if (str(o.control)) byControl.set(str(o.control), n);
    return { o, n };
  });
  for (const { o, n } of impairments) {
    const words: string[] = [];
    if (Number(o.lossPercent) > 0) words.push(`loss ${Number(o.lossPercent)}%`);
    if (Number(o.delayMs) > 0) words.push(`delay ${Number(o.delayMs)}ms`);
    if (Number(o.rateKbit) > 0) words.push(`rate ${Number(o.rateKbit)}kbit`);
    const up = byControl.get(str(o.upstream)) ?? unknownAt("switch", str(o.upstream));
    const text = words.join(", ");
    edges.push({ from: n.id, to: up.id, label: text || "no impairment", ...(text ? { fault: text } : {}) });
  }
  for (const r of of("SerialCable")) {
    const o = r.outputs!;
    const n = add("cable", nameOf(r), ["serial cable", ...(o.log === true ? ["logged"] : [])]);
    if (o.suspended === true) n.fault = "suspended";
    for (const [k, end] of [
      ["endA", "A"],
      ["endB", "B"],
    ] as const)
      if (str(o[k])) byCableEnd.set(str(o[k]).replace(/^cable:/, ""), { node: n, end });
  }
  for (const r of of("SharedDisk")) {
    const o = r.outputs!;
    const n = add("disk", nameOf(r), [`shared disk ${Number(o.sizeMiB) || "?"} MiB ${str(o.filesystem)}`]);
    if (str(o.path)) byDiskPath.set(str(o.path), n);
  }
  for (const r of of("Tap")) {
    const o = r.outputs!;
    const addrs = arr(o.addresses).map(str);
    const n = add("tap", nameOf(r), [`tap ${str(o.device) || nameOf(r)}`, ...addrs]);
    const sw = byControl.get(str(o.control)) ?? unknownAt("switch", str(o.control));
    edges.push({ from: n.id, to: sw.id, label: addrs.join(" ") });
  }
  for (const r of of("Capture")) {
    const o = r.outputs!;
    const n = add("capture", nameOf(r), [`capture (${str(o.mode)})`, str(o.path)].filter(Boolean));
    if (str(o.mode) === "plug") {
      const sw = byControl.get(str(o.control)) ?? unknownAt("switch", str(o.control));
      edges.push({ from: n.id, to: sw.id, label: "pcap" });
    }
  }
  for (const r of of("Guest")) {
    const o = r.outputs!;
    const g = add(
      "guest",
      nameOf(r),
      [str(o.memory)].filter(Boolean),
      o.paused === true ? "paused" : undefined,
    );
    arr(o.nics).forEach((nicValue, i) => {
      const nic = obj(nicValue);
      const sw = byControl.get(str(nic.control)) ?? unknownAt("switch", str(nic.control));
      const faults = [...(nic.linkDown === true ? ["link down"] : []), netemText(nic.netem)].filter(Boolean);
      const label = [`eth${i}`, ...arr(nic.addresses).map(str)].join(" ");
      edges.push({ from: g.id, to: sw.id, label, ...(faults.length ? { fault: faults.join(", ") } : {}) });
    });
    arr(o.serial).forEach((s, i) => {
      const line = str(s);
      if (!line.startsWith("cable:")) return;
      const c = byCableEnd.get(line.slice("cable:".length));
      const to = c ? c.node : unknownAt("cable", line.slice("cable:".length));
      edges.push({ from: g.id, to: to.id, label: `ttyS${i}${c ? ` (end ${c.end})` : ""}` });
    });
    arr(o.disks).forEach((d, i) => {
      const disk = byDiskPath.get(str(obj(d).path));
      if (disk) edges.push({ from: g.id, to: disk.id, label: `ubd${i}` });
    });
  }
  // A suspended switch or cable carries nothing: every link to it says so.
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const e of edges) {
    const to = byId.get(e.to)!;
    if (to.fault && (to.kind === "switch" || to.kind === "cable")) {
      const why = `${to.kind} ${to.fault}`;
      e.fault = e.fault ? `${e.fault}, ${why}` : why;
    }
  }
  return { stack, nodes, edges };
}
