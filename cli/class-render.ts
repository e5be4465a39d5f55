// Class mode, the pure part (no I/O): a student's row from its stack's exported state, and the
// class as a terminal table, JSON and CSV (for grading).

export interface CheckCell {
  name: string;
  ok: boolean;
}

export interface StudentRow {
  student: string;
  stack: string;
  /** up: every guest's process runs; down: none (or no state); partial: some. */
  state: "up" | "down" | "partial";
  guestsUp: number;
  guests: number;
  checks: CheckCell[];
  passed: number;
  failed: number;
  /** When the stack last changed (ISO time), "" when never. */
  lastChange: string;
  /** The host its lab runs on (its LabRuntime's `host`: `umlab class up --hosts`); null: this machine. */
  host: string | null;
}

interface StateResource {
  type?: string;
  outputs?: Record<string, unknown>;
}

/**
 * A student's row from its exported deployment: the Guest resources (alive: `isAlive(pid)`),
 * the Checks resources' `results` (each check's pass/fail).
 */
export function rowOf(
  student: string,
  stack: string,
  exported: unknown,
  lastChange: string,
  isAlive: (pid: number) => boolean,
): StudentRow {
  const resources = ((exported as { deployment?: { resources?: unknown[] } })?.deployment?.resources ??
    []) as StateResource[];
  const guests = resources.filter((r) => String(r.type ?? "").endsWith("umlab:Guest"));
  const guestsUp = guests.filter((g) => {
    const pid = g.outputs?.pid;
    return typeof pid === "number" && isAlive(pid);
  }).length;
  const checks: CheckCell[] = resources
    .filter((r) => String(r.type ?? "").endsWith("umlab:Checks"))
    .flatMap((r) => (Array.isArray(r.outputs?.results) ? (r.outputs?.results as unknown[]) : []))
    .map((c) => ({ name: String((c as CheckCell).name), ok: (c as CheckCell).ok === true }));
  const passed = checks.filter((c) => c.ok).length;
  const runtime = resources.find((r) => String(r.type ?? "").endsWith("umlab:LabRuntime"));
  const hostName = (runtime?.outputs?.host as { name?: unknown } | undefined)?.name;
  return {
    student,
    stack,
    state: guests.length > 0 && guestsUp === guests.length ? "up" : guestsUp === 0 ? "down" : "partial",
    guestsUp,
    guests: guests.length,
    checks,
    passed,
    failed: checks.length - passed,
    lastChange,
    host: typeof hostName === "string" ? hostName : null,
  };
}

/** Every check name over the class, in first-seen order (the CSV's columns). */
export function checkNames(rows: StudentRow[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const c of r.checks) seen.add(c.name);
  return [...seen];
}

/** A terminal table: one row per student; each check as + (pass) or - (fail), then what failed. */
export function renderTable(rows: StudentRow[]): string {
  const names = checkNames(rows);
  // A host column only for a class placed on hosts (a one-host class's table is as it was).
  const hosts = rows.some((r) => r.host !== null);
  const head = [
    "student",
    ...(hosts ? ["host"] : []),
    "state",
    "guests",
    "checks",
    "each check",
    "last change",
    "failing",
  ];
  const body = rows.map((r) => {
    const byName = new Map(r.checks.map((c) => [c.name, c.ok]));
    const marks = names.map((n) => (byName.has(n) ? (byName.get(n) ? "+" : "-") : ".")).join("");
    const failing = r.checks.filter((c) => !c.ok).map((c) => c.name);
    return [
      r.student,
      ...(hosts ? [r.host ?? "(this machine)"] : []),
      r.state,
      `${r.guestsUp}/${r.guests}`,
      `${r.passed}/${r.checks.length}`,
      marks,
      r.lastChange.replace("T", " ").replace(/\.\d+Z$|Z$/, ""),
      failing.length > 2
        ? `${failing.slice(0, 2).join("; ")}; +${failing.length - 2} more`
        : failing.join("; "),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  const legend = names.length
    ? `\nchecks (+ pass, - fail, . absent): ${names.map((n, i) => `${i + 1}. ${n}`).join(" | ")}`
    : "";
  return [line(head), ...body.map(line)].join("\n") + legend;
}

export function renderJson(rows: StudentRow[]): string {
  return JSON.stringify({ students: rows }, null, 2);
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading =+-@ is defused for spreadsheets. */
export function csvField(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** CSV: one line per student; a column per check (pass/fail, empty when the student has no such check). */
export function renderCsv(rows: StudentRow[]): string {
  const names = checkNames(rows);
  const hosts = rows.some((r) => r.host !== null);
  const head = [
    "student",
    "stack",
    ...(hosts ? ["host"] : []),
    "state",
    "guests_up",
    "guests",
    "passed",
    "total",
    "last_change",
    ...names,
  ];
  const lines = rows.map((r) => {
    const byName = new Map(r.checks.map((c) => [c.name, c.ok]));
    return [
      r.student,
      r.stack,
      ...(hosts ? [r.host ?? ""] : []),
      r.state,
      String(r.guestsUp),
      String(r.guests),
      String(r.passed),
      String(r.checks.length),
      r.lastChange,
      ...names.map((n) => (byName.has(n) ? (byName.get(n) ? "pass" : "fail") : "")),
    ];
  });
  return [head, ...lines].map((l) => l.map(csvField).join(",")).join("\n") + "\n";
}
