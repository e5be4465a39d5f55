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
import { callRemote } from "../host/remote";
import { checkHost, hostLabel, type Host } from "../host/remote-argv";

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

/** The shortest time one attempt gets; a refresh's single attempt gets ONCE_ATTEMPT_MS. */
const ATTEMPT_FLOOR_MS = 2000;
/** A refresh tries each check once: long enough for `vtysh` on a loaded host (not the 2 s floor). */
export const ONCE_ATTEMPT_MS = 10_000;

async function runCheck(
  c: CheckSpec,
  deadline: number,
  intervalMs: number,
  floorMs = ATTEMPT_FLOOR_MS,
): Promise<CheckResult> {
  const t0 = Date.now();
  const [labDir, guest] = splitGuestDir(c.guestDir);
  const name = checkName(c);
  let attempts = 0;
  let seen = "";
  for (;;) {
    attempts++;
    try {
      const r = await execInGuest(labDir, guest, checkCommand(c), {
        timeoutMs: Math.max(floorMs, Math.min(15_000, deadline - Date.now())),
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

/** The checks grouped by where their guest runs ("" = this machine), in their order (pure). */
export function byHost(checks: CheckSpec[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  checks.forEach((c, i) => {
    const key = c.host === undefined ? "" : JSON.stringify(c.host);
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  return groups;
}

/**
 * Checks of guests on another host run there: this provider's own create, over ssh (one
 * round trip per host, the checks there concurrent, the same deadline). A host that cannot
 * be reached fails its checks, saying why.
 */
async function runThere(
  h: unknown,
  checks: CheckSpec[],
  inputs: ChecksInputs,
  deadline: number,
  once: boolean,
): Promise<CheckResult[]> {
  const t0 = Date.now();
  const failAll = (seen: string) =>
    checks.map((c) => ({
      name: checkName(c),
      ok: false,
      attempts: 0,
      seconds: (Date.now() - t0) / 1000,
      seen,
    }));
  const parsed = checkHost(h);
  if (!parsed.ok) return failAll(`bad host: ${parsed.failures.map((f) => f.reason).join("; ")}`);
  const there: ChecksInputs = {
    ...inputs,
    checks: checks.map(({ host: _h, ...c }) => c as CheckSpec),
    deadlineSeconds: Math.max(0, (deadline - Date.now()) / 1000),
    failOnError: false,
  };
  try {
    // A refresh's single attempt is the provider's read there; otherwise its create.
    const r = (await callRemote(parsed.host as Host, {
      op: "handler",
      provider: "checksProvider",
      method: once ? "read" : "create",
      args: once ? ["remote", { ...there, results: [] }] : [there],
    })) as { outs?: ChecksOutputs; props?: ChecksOutputs };
    const results = (once ? r.props : r.outs)?.results ?? [];
    return results.length === checks.length
      ? results
      : failAll(`no results from ${hostLabel(parsed.host as Host)}`);
  } catch (e) {
    return failAll(`on ${hostLabel(parsed.host as Host)}: ${(e as Error).message}`);
  }
}

/**
 * Run every check (concurrently), each retried until it passes or the deadline; `once`: one
 * attempt each (a refresh), given up to ONCE_ATTEMPT_MS.
 */
export async function runChecks(inputs: ChecksInputs, once = false): Promise<ChecksOutputs> {
  const deadline = Date.now() + inputs.deadlineSeconds * 1000;
  const results: CheckResult[] = new Array(inputs.checks.length);
  await Promise.all(
    [...byHost(inputs.checks)].map(async ([key, idx]) => {
      const group = idx.map((i) => inputs.checks[i]);
      const rs =
        key === ""
          ? await Promise.all(
              group.map((c) => runCheck(c, deadline, inputs.intervalMs, once ? ONCE_ATTEMPT_MS : undefined)),
            )
          : await runThere(group[0].host, group, inputs, deadline, once);
      idx.forEach((i, k) => (results[i] = rs[k]));
    }),
  );
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
      const outs = await runChecks({ ...o, deadlineSeconds: 0 }, true);
      return plain({ ...outs, deadlineSeconds: o.deadlineSeconds });
    } catch {
      return o;
    }
  },

  async delete() {
    // Nothing to undo: checks only look.
  },
});
