// Early, friendly validation in the SDK constructors, with the providers' own schemas.
// Values not known yet (Outputs, Promises) are left to the provider's `check`.
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { validate, UNKNOWN } from "../provider/core/schemas";

function known(v: unknown): unknown {
  if (pulumi.Output.isInstance(v) || v instanceof Promise || pulumi.Resource.isInstance(v)) return UNKNOWN;
  if (Array.isArray(v)) return v.map(known);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = known(x);
    return out;
  }
  return v;
}

function at(v: unknown, path: string): unknown {
  let cur: any = v;
  for (const part of path.split(/\.|\[|\]/).filter((s) => s !== "")) {
    if (cur === UNKNOWN) return UNKNOWN;
    cur = cur?.[/^\d+$/.test(part) ? Number(part) : part];
  }
  return cur;
}

/** Throw an Error naming the resource, each bad property and its fix. */
export function preflight(
  kind: string,
  name: string,
  schema: z.ZodTypeAny,
  inputs: Record<string, unknown>,
): void {
  const plain = known(inputs);
  const r = validate(schema, plain);
  if (r.ok) return;
  const real = r.failures.filter((f) => at(plain, f.property) !== UNKNOWN);
  if (real.length === 0) return;
  throw new Error(`umlab ${kind} "${name}": ` + real.map((f) => `${f.property}: ${f.reason}`).join("; "));
}
