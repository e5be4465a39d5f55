// `umlab graph`, the text (pure): a Graph (graph-model.ts) as Graphviz DOT and as a Mermaid
// flowchart. Node ids are generated (n0, n1, ...); every user string (names, addresses, paths)
// goes only into a quoted label, escaped for that language, so a name with a quote, a newline,
// `-->` or `]` can neither break the text nor add nodes or edges to it.
import type { Graph, GraphNode, NodeKind } from "./graph-model";

/** Control characters (newlines too) as one space: a label line is one line. */
const oneLine = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ");

/** A DOT quoted-string body: `\` and `"` escaped (so `\n`, `\N`, `\G` never come from user text). */
export function dotText(s: string): string {
  return oneLine(s).replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}

/**
 * Mermaid text for inside a `"..."` label: letters, digits, space and `._:/,=+@()-` as they are,
 * everything else as an entity code `#<decimal>;` (Mermaid's escape), so no quote, bracket,
 * pipe, `<`, `%`, `;`, backtick or `#` of the user's reaches the parser.
 */
export function mermaidText(s: string): string {
  return Array.from(oneLine(s))
    .map((c) => (/^[A-Za-z0-9 ._:/,=+@()-]$/.test(c) ? c : `#${c.codePointAt(0)};`))
    .join("");
}

const LOOK: Record<NodeKind, { dot: string; fill: string; mermaid: [string, string] }> = {
  guest: { dot: "box", fill: "#e8f1fb", mermaid: ["[", "]"] },
  switch: { dot: "ellipse", fill: "#fdf3d8", mermaid: ["{{", "}}"] },
  impairment: { dot: "hexagon", fill: "#fde2e2", mermaid: ["[/", "/]"] },
  tap: { dot: "cds", fill: "#e3f6e3", mermaid: ["([", "])"] },
  capture: { dot: "note", fill: "#eeeeee", mermaid: ["[(", ")]"] },
  cable: { dot: "octagon", fill: "#efe3f7", mermaid: [">", "]"] },
  disk: { dot: "cylinder", fill: "#eeeeee", mermaid: ["[(", ")]"] },
  missing: { dot: "box", fill: "#ffffff", mermaid: ["[", "]"] },
};

/** A node's lines: its name, its details, its fault. */
function lines(n: GraphNode): string[] {
  return [n.name, ...n.details, ...(n.fault ? [n.fault.toUpperCase()] : [])].filter((l) => l !== "");
}

export function toDot(g: Graph): string {
  const out = [
    "graph umlab {",
    `  graph [rankdir=LR, fontname="Helvetica", label="${dotText(`umlab lab, stack ${g.stack}`)}"];`,
    '  node [fontname="Helvetica", style=filled];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const n of g.nodes) {
    const look = LOOK[n.kind];
    const extra = n.fault || n.kind === "missing" ? ', color="#cc2222", penwidth=2' : "";
    const style = n.kind === "missing" ? ", style=dashed" : "";
    out.push(
      `  ${n.id} [label="${lines(n).map(dotText).join("\\n")}", shape=${look.dot}, fillcolor="${look.fill}"${extra}${style}];`,
    );
  }
  for (const e of g.edges) {
    const label = [e.label, ...(e.fault ? [e.fault.toUpperCase()] : [])].filter(Boolean);
    const fault = e.fault ? ', style=dashed, color="#cc2222", fontcolor="#cc2222"' : "";
    out.push(`  ${e.from} -- ${e.to} [label="${label.map(dotText).join("\\n")}"${fault}];`);
  }
  out.push("}");
  return out.join("\n") + "\n";
}

export function toMermaid(g: Graph): string {
  const out = ["flowchart LR", `  %% umlab lab, stack ${mermaidText(g.stack)}`];
  for (const n of g.nodes) {
    const [open, close] = LOOK[n.kind].mermaid;
    out.push(`  ${n.id}${open}"${lines(n).map(mermaidText).join("<br/>")}"${close}`);
  }
  g.edges.forEach((e) => {
    const label = [e.label, ...(e.fault ? [e.fault.toUpperCase()] : [])].filter(Boolean).map(mermaidText);
    out.push(label.length ? `  ${e.from} ---|"${label.join("<br/>")}"| ${e.to}` : `  ${e.from} --- ${e.to}`);
  });
  g.edges.forEach((e, i) => {
    if (e.fault) out.push(`  linkStyle ${i} stroke:#cc2222,stroke-dasharray:5 5`);
  });
  for (const kind of Object.keys(LOOK) as NodeKind[]) {
    const ids = g.nodes.filter((n) => n.kind === kind).map((n) => n.id);
    if (ids.length === 0) continue;
    out.push(`  classDef ${kind} fill:${LOOK[kind].fill},stroke:#555`);
    out.push(`  class ${ids.join(",")} ${kind}`);
  }
  const faulty = g.nodes.filter((n) => n.fault).map((n) => n.id);
  if (faulty.length) {
    out.push("  classDef fault stroke:#cc2222,stroke-width:3px");
    out.push(`  class ${faulty.join(",")} fault`);
  }
  return out.join("\n") + "\n";
}
