// Lab checks: what a working lab looks like, checked in the running guests after they are
// up (in the spirit of Netkit's ltest and netlab validate). Each check runs through the exec
// agent and is retried until it passes or the deadline passes (convergence: OSPF routes take
// seconds to appear). Results are outputs; `failOnError` fails the update with a message that
// names each failed check and shows what was seen. `pulumi refresh` checks again.
import * as vm from "vm";
import * as host from "../host/process";
import { execInGuest, splitGuestDir, ExecError } from "./agent";
import { checksSchema, checksPolicy, ChecksInputs, CheckSpec } from "../core/schemas";
import { defineProvider } from "../core/define";

export type { ChecksInputs, CheckSpec };

export interface CheckResult {
  name: string;
  ok: boolean;
  attempts: number;
  seconds: number;
  /** What the last attempt saw (output tail, or why it could not run). */
  seen: string;
}

export interface ChecksOutputs extends ChecksInputs {
  results: CheckResult[];
  passed: number;
  failed: number;
  ok: boolean;
  /** One line per check: `ok   <name>` / `FAIL <name>: <seen>`. */
  summary: string;
}

/** The name a check shows under when none is given. */
export function checkName(c: CheckSpec): string {
  if (c.name) return c.name;
  const guest = splitGuestDir(c.guestDir)[1];
  if (c.kind === "ping") return `${guest} reaches ${c.to}`;
  if (c.kind === "route")
    return `${guest} has a route to ${c.dest}${c.via ? ` via ${c.via}` : ""}${c.dev ? ` dev ${c.dev}` : ""}${c.proto ? ` (${c.proto})` : ""}`;
  const cmd = typeof c.command === "string" ? c.command : c.command.join(" ");
  return `${guest}: \`${cmd}\`` + (c.expect !== undefined ? ` prints /${c.expect}/${c.flags}` : "");
}

/** The command an attempt runs in the guest (argv: no shell). */
export function checkCommand(c: CheckSpec): string | string[] {
  if (c.kind === "ping")
    return c.to.includes(":")
      ? ["ping", "-6", "-c", "1", "-W", "1", c.to]
      : ["ping", "-c", "1", "-W", "1", c.to];
  if (c.kind === "route")
    // A bare prefix selects exactly that prefix (iproute2 and busybox alike).
    return ["ip", ...(c.dest.includes(":") ? ["-6"] : []), "route", "show", c.dest];
  return c.command;
}

/** Did an attempt pass, given what the command printed and returned? (pure) */
export function judge(c: CheckSpec, r: { stdout: string; exitCode: number }): boolean {
  if (c.kind === "ping") return r.exitCode === 0;
  if (c.kind === "route") {
    const lines = r.stdout.split("\n").filter((l) => l.trim() !== "");
    if (r.exitCode !== 0 || lines.length === 0) return false;
    const text = ` ${lines.join(" ")} `;
    if (c.via && !text.includes(` via ${c.via} `)) return false;
    if (c.dev && !text.includes(` dev ${c.dev} `)) return false;
    if (c.proto && !text.includes(` proto ${c.proto} `)) return false;
    return true;
  }
  const wantCode = c.exitCode ?? (c.expect === undefined ? 0 : undefined);
  if (wantCode !== undefined && r.exitCode !== wantCode) return false;
  return c.expect === undefined || regexMatches(c.expect, c.flags, r.stdout);
}

/** How long one match of a check's `expect` may run on guest output. */
export const REGEX_BUDGET_MS = 1000;

/** A check's `expect` ran out of its time budget (catastrophic backtracking on this output). */
export class RegexBudgetError extends Error {}

/**
 * `new RegExp(expect, flags).test(text)` with a time budget: the guest chooses the text, and
 * a pattern like /^(a+)+$/ backtracks exponentially on some inputs. The match runs in a vm
 * context with a timeout (V8 interrupts a running RegExp), so it can never stall the provider
 * for longer than REGEX_BUDGET_MS; then the check fails saying why.
 */
export function regexMatches(
  expect: string,
  flags: string,
  text: string,
  budgetMs = REGEX_BUDGET_MS,
): boolean {
  try {
    return (
      vm.runInNewContext(
        "new RegExp(p, f).test(s)",
        { p: expect, f: flags, s: text },
        { timeout: budgetMs },
      ) === true
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ERR_SCRIPT_EXECUTION_TIMEOUT")
      throw new RegexBudgetError(
        `expect /${expect}/${flags} ran over ${budgetMs} ms on ${text.length} characters of output ` +
          "(catastrophic backtracking): simplify the regular expression",
      );
    throw e;
  }
}

async function runCheck(c: CheckSpec, deadline: number, intervalMs: number): Promise<CheckResult> {
  const t0 = Date.now();
  const [labDir, guest] = splitGuestDir(c.guestDir);
  const name = checkName(c);
  let attempts = 0;
  let seen = "";
  for (;;) {
    attempts++;
    try {
      const r = await execInGuest(labDir, guest, checkCommand(c), {
        timeoutMs: Math.max(2000, Math.min(15_000, deadline - Date.now())),
      });
      const out = host.lastLines(`${r.stdout}\n${r.stderr}`, 6);
      seen = `exit ${r.exitCode}${out ? `: ${out}` : ", no output"}`;
      if (judge(c, r)) return { name, ok: true, attempts, seconds: (Date.now() - t0) / 1000, seen };
    } catch (e) {
      seen = (e as Error).message;
      // Output that defeats the pattern once will again: no retry.
      if (e instanceof RegexBudgetError)
        return { name, ok: false, attempts, seconds: (Date.now() - t0) / 1000, seen };
      // A missing or dead guest will not come back by waiting.
      if (e instanceof ExecError && e.reason !== "timeout" && e.reason !== "not-ready")
        return { name, ok: false, attempts, seconds: (Date.now() - t0) / 1000, seen };
    }
    if (Date.now() + intervalMs >= deadline)
      return { name, ok: false, attempts, seconds: (Date.now() - t0) / 1000, seen };
    await host.sleep(intervalMs);
  }
}

/** The one-line-per-check report. */
export function summarize(results: CheckResult[]): string {
  return results
    .map((r) =>
      r.ok
        ? `ok   ${r.name} (${r.attempts} attempt${r.attempts === 1 ? "" : "s"}, ${r.seconds.toFixed(1)} s)`
        : `FAIL ${r.name}: after ${r.attempts} attempt${r.attempts === 1 ? "" : "s"} in ${r.seconds.toFixed(1)} s, saw: ${r.seen}`,
    )
    .join("\n");
}

/** Run every check (concurrently), each retried until it passes or the deadline. */
export async function runChecks(inputs: ChecksInputs): Promise<ChecksOutputs> {
  const deadline = Date.now() + inputs.deadlineSeconds * 1000;
  const results = await Promise.all(inputs.checks.map((c) => runCheck(c, deadline, inputs.intervalMs)));
  const failed = results.filter((r) => !r.ok).length;
  return {
    ...inputs,
    results,
    passed: results.length - failed,
    failed,
    ok: failed === 0,
    summary: summarize(results),
  };
}

async function checkAndMaybeFail(inputs: ChecksInputs): Promise<ChecksOutputs> {
  const outs = await runChecks(inputs);
  if (!outs.ok && inputs.failOnError)
    throw new Error(
      `lab checks: ${outs.failed} of ${outs.results.length} failed within ${inputs.deadlineSeconds} s\n` +
        summarize(outs.results.filter((r) => !r.ok)),
    );
  return outs;
}

/** Without undefined values (the engine's protobuf encoding rejects them). */
function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v));
}

export const checksProvider = defineProvider<ChecksInputs, ChecksOutputs>({
  schema: checksSchema,
  policy: checksPolicy,

  async create(inputs) {
    return { id: `checks-${Date.now().toString(36)}`, outs: plain(await checkAndMaybeFail(inputs)) };
  },

  async update(_o, n) {
    return plain(await checkAndMaybeFail(n));
  },

  async read(o) {
    // `pulumi refresh` checks again, one attempt each (a refresh should be quick), and
    // records what it finds; it never fails the refresh.
    try {
      const outs = await runChecks({ ...o, deadlineSeconds: 0 });
      return plain({ ...outs, deadlineSeconds: o.deadlineSeconds });
    } catch {
      return o;
    }
  },

  async delete() {
    // Nothing to undo: checks only look.
  },
});
