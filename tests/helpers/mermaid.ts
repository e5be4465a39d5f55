// A strict structural check of the Mermaid flowchart `umlab graph` emits (there is no Mermaid
// CLI here): every line is one of the statement forms cli/graph-render.ts writes, every quoted
// label is free of the characters that end or re-open one, every edge, linkStyle and class
// names declared nodes, linkStyle indexes exist. Returns the problems (empty: valid), and the
// node ids and edges it read, so a test can check what is in the picture.
export interface MermaidParse {
  problems: string[];
  nodes: Map<string, string>;
  edges: { from: string; to: string; label: string }[];
}

const ID = "n[0-9]+";
/** A label body: only what mermaidText lets through as it is, entity codes, and `<br/>`. */
const LABEL = "(?:[A-Za-z0-9 ._:/,=+@()-]|#[0-9]+;|<br/>)*";
const SHAPES: [string, string][] = [
  ["\\[", "\\]"],
  ["\\{\\{", "\\}\\}"],
  ["\\[/", "/\\]"],
  ["\\(\\[", "\\]\\)"],
  ["\\[\\(", "\\)\\]"],
  [">", "\\]"],
];
const NODE = new RegExp(`^  (${ID})(?:${SHAPES.map(([o, c]) => `${o}"(${LABEL})"${c}`).join("|")})$`);
const EDGE = new RegExp(`^  (${ID}) ---(?:\\|"(${LABEL})"\\|)? (${ID})$`);
const LINKSTYLE = /^ {2}linkStyle ([0-9]+) [a-z-]+:[#a-z0-9 ]+(,[a-z-]+:[#a-z0-9 ]+)*$/;
const CLASSDEF = /^ {2}classDef [a-z]+ [a-z-]+:[#a-z0-9]+(,[a-z-]+:[#a-z0-9]+)*$/;
const CLASS = new RegExp(`^  class (${ID}(?:,${ID})*) [a-z]+$`);
const COMMENT = /^ {2}%% [^\n]*$/;

/** Decode Mermaid entity codes (#35; -> #). */
export function mermaidDecode(s: string): string {
  return s.replace(/#([0-9]+);/g, (_, n: string) => String.fromCodePoint(Number(n))).replace(/<br\/>/g, "\n");
}

export function parseMermaid(text: string): MermaidParse {
  const problems: string[] = [];
  const nodes = new Map<string, string>();
  const edges: MermaidParse["edges"] = [];
  const lines = text.split("\n");
  if (lines[0] !== "flowchart LR") problems.push(`line 1 is not "flowchart LR": ${lines[0]}`);
  if (lines[lines.length - 1] !== "") problems.push("no final newline");
  const refs: [number, string][] = [];
  const styled: [number, number][] = [];
  lines.slice(1, -1).forEach((line, k) => {
    const no = k + 2;
    let m: RegExpExecArray | null;
    if ((m = NODE.exec(line))) {
      const label = m.slice(2).find((x) => x !== undefined) ?? "";
      if (nodes.has(m[1])) problems.push(`line ${no}: node ${m[1]} declared twice`);
      nodes.set(m[1], mermaidDecode(label));
    } else if ((m = EDGE.exec(line))) {
      edges.push({ from: m[1], to: m[3], label: mermaidDecode(m[2] ?? "") });
      refs.push([no, m[1]], [no, m[3]]);
    } else if ((m = LINKSTYLE.exec(line))) styled.push([no, Number(m[1])]);
    else if ((m = CLASS.exec(line))) for (const id of m[1].split(",")) refs.push([no, id]);
    else if (!CLASSDEF.test(line) && !COMMENT.test(line))
      problems.push(`line ${no}: not a statement: ${line}`);
  });
  for (const [no, id] of refs) if (!nodes.has(id)) problems.push(`line ${no}: ${id} is not a declared node`);
  for (const [no, i] of styled)
    if (i >= edges.length) problems.push(`line ${no}: linkStyle ${i}: no such link`);
  return { problems, nodes, edges };
}
