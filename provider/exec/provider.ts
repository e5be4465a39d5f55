// The Exec resource: a command run in a guest (through its exec agent, ./agent.ts) on create,
// and again when what it depends on changes (its triggers, the guest's boot id).
import * as crypto from "crypto";
import * as host from "../host/process";
import { execSchema, execPolicy, ExecInputs } from "../core/schemas";
import { planFromPolicy, PolicyPlan } from "../core/diff";
import { defineProvider } from "../core/define";
import { execInGuest, splitGuestDir, commandLabel } from "./agent";

export interface ExecOutputs extends ExecInputs {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** A change that re-runs the command replaces; timeoutSeconds/failOnError only update (execPolicy). */
export function planExec(olds: Partial<ExecInputs>, news: Partial<ExecInputs>): PolicyPlan {
  return planFromPolicy(execPolicy, olds, news);
}

async function runExec(inputs: ExecInputs): Promise<ExecOutputs> {
  const [labDir, name] = splitGuestDir(inputs.guestDir);
  const r = await execInGuest(labDir, name, inputs.command, {
    timeoutMs: inputs.timeoutSeconds * 1000,
    stdin: inputs.stdin,
  });
  if (r.exitCode !== 0 && inputs.failOnError)
    throw new Error(
      `exec in guest "${name}": \`${commandLabel(inputs.command)}\` exited with ${r.exitCode}\n` +
        `--- stderr (tail) ---\n${host.lastLines(r.stderr)}\n--- stdout (tail) ---\n${host.lastLines(r.stdout)}`,
    );
  // A JSON round trip drops undefined values (the engine's encoding rejects them).
  return JSON.parse(JSON.stringify({ ...inputs, stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode }));
}

export const execProvider = defineProvider<ExecInputs, ExecOutputs>({
  schema: execSchema,
  policy: execPolicy,
  deleteBeforeReplace: false,

  async create(inputs) {
    return { id: `exec-${crypto.randomBytes(6).toString("hex")}`, outs: await runExec(inputs) };
  },

  async update(o, n) {
    // Only timeoutSeconds/failOnError changed (everything else replaces): keep the results.
    return { ...n, stdout: o.stdout, stderr: o.stderr, exitCode: o.exitCode };
  },

  async delete() {
    // Nothing to undo: the command ran in the guest.
  },
});
