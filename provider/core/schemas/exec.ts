// The Exec resource (provider/exec/provider.ts) and the Checks resource (provider/exec/checks.ts).
import { z } from "zod";
import { UNKNOWN } from "../unknown";
import { replace, inPlace, type ChangePolicy } from "../policy";

/** A Guest's `guestDir` output (unknown during the preview of an update of that guest). */
export function guestDirSchema() {
  return z.union([
    z.literal(UNKNOWN),
    z.string().regex(/^\/[A-Za-z0-9._+/-]*\/g\/[a-z][a-z0-9-]*$/, "use a Guest's guestDir output"),
  ]);
}

/** The longest a timer can wait: 2^31-1 ms. */
export const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Why a check's `expect` and `flags` do not make a JavaScript RegExp, or undefined. */
export function regexProblem(expect: string, flags: string): string | undefined {
  if (!/^[dgimsuyv]*$/.test(flags) || new Set(flags).size !== flags.length)
    return `flags "${flags}" are not RegExp flags: use some of d g i m s u y v, each once`;
  try {
    new RegExp(expect, flags);
    return undefined;
  } catch (e) {
    return `expect is not a valid regular expression: ${(e as Error).message}`;
  }
}

export function execSchema() {
  return z.object({
    /** The guest folder (`Guest.guestDir`): `<labDir>/g/<name>`. */
    guestDir: guestDirSchema(),
    command: z.union([
      z.string().min(1, "give a command"),
      z.array(z.string()).min(1, "give a command (argv: at least one word)"),
    ]),
    stdin: z.string().optional(),
    /** Any change re-runs the command (a replace). */
    triggers: z.array(z.any()).default([]),
    /** The guest's boot id: a rebooted guest runs the command again. */
    bootId: z.string().default(""),
    timeoutSeconds: z
      .number()
      .positive()
      .max(
        MAX_TIMEOUT_SECONDS,
        `use at most ${MAX_TIMEOUT_SECONDS} seconds (a longer timer would fire at once)`,
      )
      .default(60),
    /** A non-zero exit fails the update (default); false records it in `exitCode`. */
    failOnError: z.boolean().default(true),
  });
}
export type ExecInputs = z.output<ReturnType<typeof execSchema>>;

/**
 * A change that re-runs the command replaces the resource. A guest being updated has unknown
 * outputs during the preview; the real values are compared again when `up` reaches this
 * resource, so a reboot still re-runs what depends on it ("same" while unknown).
 */
export const execPolicy: ChangePolicy<ExecInputs> = {
  guestDir: replace("runs in another guest", "same"),
  command: replace("another command runs", "same"),
  stdin: replace("the command reads it", "same"),
  triggers: replace("what the author says re-runs it", "same"),
  bootId: replace("a rebooted guest runs it again", "same"),
  timeoutSeconds: inPlace("only the next run's limit", "same"),
  failOnError: inPlace("only how the next run's exit is judged", "same"),
};

export function checksSchema() {
  const guestDir = guestDirSchema();
  const base = {
    name: z.string().min(1).optional(),
    guestDir,
    /** The guest's host when it is not this machine (the SDK sets it; checked by the remote layer). */
    host: z.record(z.string(), z.any()).optional(),
  };
  const check = z.discriminatedUnion("kind", [
    z.object({
      ...base,
      kind: z.literal("ping"),
      /** The address to reach (IPv4 or IPv6). */
      to: z.string().regex(/^[0-9a-fA-F.:]+$/, "use an IP address"),
    }),
    z.object({
      ...base,
      kind: z.literal("route"),
      /** The exact prefix, e.g. "192.168.100.3/32" (or "default"). */
      dest: z.string().regex(/^(default|[0-9a-fA-F.:]+(\/[0-9]{1,3})?)$/, 'use a prefix like "10.0.0.0/24"'),
      via: z.string().optional(),
      dev: z.string().optional(),
      /** The routing protocol that installed it, e.g. "ospf". */
      proto: z.string().optional(),
    }),
    z
      .object({
        ...base,
        kind: z.literal("command"),
        command: z.union([z.string().min(1), z.array(z.string()).min(1)]),
        /** A regular expression stdout must match (JavaScript syntax). */
        expect: z.string().optional(),
        flags: z.string().default(""),
        /** The exit code wanted (default 0 when `expect` is not given). */
        exitCode: z.number().int().optional(),
      })
      .superRefine((c, ctx) => {
        const why = regexProblem(c.expect ?? "", c.flags);
        if (why)
          ctx.addIssue({
            code: "custom",
            path: [c.expect !== undefined && !why.startsWith("flags") ? "expect" : "flags"],
            message: why,
          });
      }),
  ]);
  return z.object({
    checks: z.array(check).min(1, "give at least one check"),
    /** Each check is retried until it passes or this many seconds after the start. */
    deadlineSeconds: z
      .number()
      .positive()
      .max(MAX_TIMEOUT_SECONDS, `use at most ${MAX_TIMEOUT_SECONDS} seconds`)
      .default(60),
    /** Pause between attempts of one check. */
    intervalMs: z
      .number()
      .int()
      .nonnegative()
      .max(3_600_000, "use at most 3600000 ms (an hour) between attempts")
      .default(500),
    /** Fail the update when a check fails (default false: results are outputs only). */
    failOnError: z.boolean().default(false),
    /** Any change checks again; the SDK passes the guests' boot ids. */
    triggers: z.array(z.any()).default([]),
  });
}
export type ChecksInputs = z.output<ReturnType<typeof checksSchema>>;
export type CheckSpec = ChecksInputs["checks"][number];

/** Checks only look: any change checks again, in place. */
export const checksPolicy: ChangePolicy<ChecksInputs> = {
  checks: inPlace("checks again", "same"),
  deadlineSeconds: inPlace("checks again", "same"),
  intervalMs: inPlace("checks again", "same"),
  failOnError: inPlace("checks again", "same"),
  triggers: inPlace("checks again (the guests' boot ids)", "same"),
};
