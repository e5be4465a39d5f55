// Pure: the JSON of `pulumi preview --json` (or `pulumi refresh --preview-only --json`) turned
// into a short markdown summary for a pull-request comment: one line per resource that changes,
// what happens to it (create/update/replace/delete, or for a refresh: drifted/gone) and why,
// field by field. Pulumi's steps carry replaceReasons, and diffReasons/detailedDiff when a
// provider gives them; umlab's dynamic providers give no field list for updates, so the fields
// are also found by comparing the step's old and new inputs. The "why" of a field is its change
// policy (provider/core/schemas/<component>.ts).
import { UNKNOWN } from "../provider/core/unknown";
import type { FieldPolicy } from "../provider/core/policy";
import * as s from "../provider/core/schemas";

/** Pulumi's marker of a secret value in state and preview JSON. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

const POLICIES: Record<string, Record<string, FieldPolicy>> = {
  Guest: s.guestPolicy,
  CowDisk: s.cowDiskPolicy,
  Switch: s.switchPolicy,
  LabRuntime: s.labRuntimePolicy,
  Image: s.imagePolicy,
  Tap: s.tapPolicy,
  Capture: s.capturePolicy,
  SerialCable: s.serialCablePolicy,
  Impairment: s.impairmentPolicy,
  SharedDisk: s.sharedDiskPolicy,
  Snapshot: s.snapshotPolicy,
  Exec: s.execPolicy,
  Checks: s.checksPolicy,
};
/** Nested tables: a field path's second part is looked up here (nics[0].addresses). */
const NESTED: Record<string, Record<string, FieldPolicy>> = { nics: s.nicPolicy };

export class SummaryInputError extends Error {}

interface Step {
  op: string;
  urn: string;
  oldState?: { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
  newState?: { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
  diffReasons?: string[];
  replaceReasons?: string[];
  detailedDiff?: Record<string, { kind?: string }> | null;
}

export interface FieldChange {
  path: string;
  old?: unknown;
  new?: unknown;
  /** Known from the step (replaceReasons) to force a replacement. */
  replaces: boolean;
  why?: string;
}

export interface ResourceChange {
  op: "create" | "update" | "replace" | "delete" | "drifted" | "gone" | string;
  kind: string;
  name: string;
  fields: FieldChange[];
}

export interface PreviewSummary {
  stack: string;
  refresh: boolean;
  counts: Record<string, number>;
  changes: ResourceChange[];
}

/** A urn's stack, type (last segment after any parent types) and name. */
export function parseUrn(urn: string): { stack: string; type: string; name: string } {
  const parts = urn.split("::");
  if (parts.length < 4 || !parts[0].startsWith("urn:pulumi:"))
    throw new SummaryInputError(`a step's urn "${urn}" is not a Pulumi urn`);
  const types = parts[2].split("$");
  return {
    stack: parts[0].slice("urn:pulumi:".length),
    type: types[types.length - 1],
    name: parts.slice(3).join("::"),
  };
}

/** "pulumi-nodejs:dynamic/umlab:Guest" → "Guest", "umlab:index:Lab" → "Lab"; others stay whole. */
export function kindOf(type: string): string {
  const m = /^(?:pulumi-nodejs:dynamic\/umlab|umlab:index):(.+)$/.exec(type);
  return m ? m[1] : type;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isSecret = (v: unknown) => isObj(v) && SECRET_SIG in v;

/** The leaf paths where two input trees differ (secrets compared whole, never opened). */
export function changedPaths(
  a: unknown,
  b: unknown,
  prefix = "",
): { path: string; old?: unknown; new?: unknown }[] {
  if (isSecret(a) || isSecret(b) || a === UNKNOWN || b === UNKNOWN)
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: prefix, old: a, new: b }];
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: { path: string; old?: unknown; new?: unknown }[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++)
      out.push(...changedPaths(a[i], b[i], `${prefix}[${i}]`));
    return out;
  }
  if (isObj(a) && isObj(b)) {
    const out: { path: string; old?: unknown; new?: unknown }[] = [];
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      out.push(...changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
    return out;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: prefix, old: a, new: b }];
}

/** The policy's reason for a field path, if the component has a table for it. */
export function whyOf(kind: string, path: string): string | undefined {
  const [top, ...rest] = path.split(/[.[\]]+/).filter((p) => p !== "" && !/^\d+$/.test(p));
  const p = POLICIES[kind]?.[top];
  if (!p) return undefined;
  const nested = rest.length ? NESTED[top]?.[rest[0]] : undefined;
  const f = nested ?? p;
  const what = f.change === "replace" ? "replace" : f.change === "inPlace" ? "in place" : "planned";
  return `${what}: ${f.why}`;
}

const topOf = (path: string) => path.split(/[.[]/)[0];

function fieldsOf(step: Step, kind: string): FieldChange[] {
  const replaced = new Set(step.replaceReasons ?? []);
  const found = changedPaths(step.oldState?.inputs ?? {}, step.newState?.inputs ?? {}).filter(
    (c) => topOf(c.path) !== "__provider",
  );
  const named = new Set([...(step.diffReasons ?? []), ...Object.keys(step.detailedDiff ?? {}), ...replaced]);
  // Fields the step names but the inputs do not show (computed by the provider): listed bare.
  for (const n of named)
    if (!found.some((c) => c.path === n || topOf(c.path) === topOf(n))) found.push({ path: n });
  return found.map((c) => ({ ...c, replaces: replaced.has(topOf(c.path)), why: whyOf(kind, c.path) }));
}

/** The summary of a parsed `pulumi preview --json` / `refresh --preview-only --json` document. */
export function summarize(doc: unknown): PreviewSummary {
  if (!isObj(doc) || !Array.isArray(doc.steps))
    throw new SummaryInputError(
      'the input has no "steps" array: give the output of `pulumi preview --json` (or `pulumi refresh --preview-only --json`)',
    );
  const steps = doc.steps as Step[];
  const refresh = steps.some((st) => st.op === "refresh");
  let stack = "";
  const changes: ResourceChange[] = [];
  const seen = new Set<string>();
  for (const st of steps) {
    if (!isObj(st) || typeof st.op !== "string" || typeof st.urn !== "string")
      throw new SummaryInputError('a step has no "op" or "urn": is this `pulumi preview --json` output?');
    const u = parseUrn(st.urn);
    stack ||= u.stack;
    if (u.type === "pulumi:pulumi:Stack" || u.type.startsWith("pulumi:providers:")) continue;
    const kind = kindOf(u.type);
    let op = st.op;
    if (op === "same" || op === "read") continue;
    if (op === "create-replacement" || op === "delete-replaced" || op === "replace") op = "replace";
    if (refresh && op === "delete") op = "gone";
    if (op === "refresh") {
      const drift = changedPaths(st.oldState?.outputs ?? {}, st.newState?.outputs ?? {});
      if (drift.length === 0) continue;
      changes.push({
        op: "drifted",
        kind,
        name: u.name,
        fields: drift.map((d) => ({ ...d, replaces: false })),
      });
      continue;
    }
    if (seen.has(`${op} ${st.urn}`)) continue; // a replace's create/delete halves
    seen.add(`${op} ${st.urn}`);
    const fields = op === "update" || op === "replace" ? fieldsOf(st, kind) : [];
    changes.push({ op, kind, name: u.name, fields });
  }
  const counts: Record<string, number> = {};
  for (const c of changes) counts[c.op] = (counts[c.op] ?? 0) + 1;
  return { stack, refresh, counts, changes };
}

/** A value for one line of markdown: short, secrets and unknowns named, never opened. */
export function show(v: unknown, max = 60): string {
  if (v === undefined) return "(none)";
  if (v === UNKNOWN) return "(known after apply)";
  if (isSecret(v)) return "[secret]";
  const t = JSON.stringify(v) ?? String(v);
  const cut = t.length > max ? `${t.slice(0, max - 1)}…` : t;
  return "`" + cut.replace(/`/g, "'") + "`";
}

const VERB: Record<string, string> = {
  create: "create",
  update: "update in place",
  replace: "replace",
  delete: "delete",
  drifted: "drifted (differs from the state)",
  gone: "gone from the host (no longer running; the next `pulumi up` recreates it)",
};

/** The markdown for a pull-request comment (or a drift report). */
export function renderMarkdown(
  sum: PreviewSummary,
  opts: { title?: string; maxFields?: number } = {},
): string {
  const maxFields = opts.maxFields ?? 8;
  const what = sum.refresh ? "drift check (refresh preview)" : "pulumi preview";
  const lines = [`### ${opts.title ?? `umlab: ${what} of stack \`${sum.stack || "?"}\``}`, ""];
  if (sum.changes.length === 0) {
    lines.push(sum.refresh ? "No drift: the lab on the host matches the state." : "No changes.");
    return lines.join("\n") + "\n";
  }
  const order = ["create", "update", "replace", "delete", "drifted", "gone"];
  const counts = Object.entries(sum.counts).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  lines.push(`**${counts.map(([op, n]) => `${n} ${op}`).join(", ")}**`, "");
  for (const c of sum.changes) {
    lines.push(`- **${VERB[c.op] ?? c.op}** ${c.kind} \`${c.name}\``);
    for (const f of c.fields.slice(0, maxFields)) {
      const values = "old" in f || "new" in f ? `: ${show(f.old)} → ${show(f.new)}` : "";
      const why = f.why ? ` (${f.why})` : f.replaces ? " (forces a replacement)" : "";
      lines.push(`  - \`${f.path}\`${values}${why}`);
    }
    if (c.fields.length > maxFields) lines.push(`  - … and ${c.fields.length - maxFields} more fields`);
  }
  return lines.join("\n") + "\n";
}

/** Parse the JSON text (with a clear error) and render it. */
export function summaryMarkdown(text: string, opts: { title?: string } = {}): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SummaryInputError(
      `the input is not JSON (${(e as Error).message}): give the output of \`pulumi preview --json\``,
    );
  }
  return renderMarkdown(summarize(doc), opts);
}
