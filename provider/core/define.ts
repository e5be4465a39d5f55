// The one dynamic-provider skeleton every component uses: check validates with the
// component's schema (plus the rules zod cannot see), diff derives the change set from the
// component's change policy (or its own planner), read drops a thing that no longer runs,
// and create/update/delete are the component's own effects.
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { validate, CheckFailure } from "./schemas/fields";
import { UNKNOWN } from "./unknown";
import { planFromPolicy, diffResult, PolicyPlan } from "./diff";
import type { ChangePolicy } from "./policy";
import { sameRun } from "../host/process";

export interface Component<I, O> {
  /** Builds the input schema (a function: zod objects do not serialize into state). */
  schema: () => z.ZodType<I>;
  policy: ChangePolicy<I>;
  /** Replacing needs the old one gone first (same paths, same names); default true. */
  deleteBeforeReplace?: boolean;
  /** Rules zod cannot see (socket path lengths, fields that depend on each other). */
  checkMore?: (inputs: I) => CheckFailure[];
  /** A planner of its own (a guest plans its NICs one by one); default: from the policy. */
  plan?: (olds: O, news: I) => PolicyPlan;
  create(inputs: I): Promise<{ id: string; outs: O }>;
  /** Apply the in-place changes; returns the full outputs. */
  update?(olds: O, news: I): Promise<O>;
  /**
   * What refresh finds: the (possibly corrected) outputs, or undefined when the thing is gone
   * and the next `up` must create it again. Default: a thing with a recorded `pid` is gone
   * unless that run (`pid` + `instance`) still lives; one without a pid is kept as it is.
   */
  read?(olds: O): O | undefined | Promise<O | undefined>;
  delete(olds: O): Promise<void>;
}

/** Does the value at a property path (`nics[0].mac`) hold an unknown? */
function unknownAt(v: unknown, property: string): boolean {
  let cur: any = v;
  for (const part of property.split(/\.|\[|\]/).filter((s) => s !== "")) {
    if (cur === UNKNOWN) return true;
    cur = cur?.[/^\d+$/.test(part) ? Number(part) : part];
  }
  return cur === UNKNOWN;
}

/**
 * Validate `news`: the parsed inputs (defaults filled in), or failures naming each field.
 * A value unknown during a preview is not judged (it is, known, at `up`).
 */
export function checkInputs<I>(
  schema: z.ZodType<I>,
  news: any,
  more?: (inputs: I) => CheckFailure[],
): { inputs: any; failures?: CheckFailure[] } {
  const r = validate(schema, news);
  if (!r.ok) {
    const real = r.failures.filter((f) => !unknownAt(news, f.property));
    return real.length > 0 ? { inputs: news, failures: real } : { inputs: news };
  }
  const f = more?.(r.value) ?? [];
  return f.length ? { inputs: news, failures: f } : { inputs: r.value };
}

/** The default read: a thing with a recorded process is there while that run lives. */
function stillRuns<O>(o: O): O | undefined {
  const p = o as { pid?: number; instance?: string };
  if (p.pid === undefined) return o;
  return sameRun(p.pid, p.instance) ? o : undefined;
}

export function defineProvider<I, O>(c: Component<I, O>): pulumi.dynamic.ResourceProvider {
  return {
    async check(_olds: any, news: any) {
      return checkInputs(c.schema(), news, c.checkMore);
    },
    async diff(_id: string, olds: any, news: any) {
      const d = diffResult(c.plan ? c.plan(olds, news) : planFromPolicy(c.policy, olds, news));
      return c.deleteBeforeReplace === false ? { changes: d.changes, replaces: d.replaces } : d;
    },
    async create(inputs: any) {
      return c.create(inputs as I);
    },
    async read(id: string, props: any) {
      const o = await (c.read ?? stillRuns)(props as O);
      return o === undefined ? { id: "", props: {} } : { id, props: o };
    },
    async update(_id: string, olds: any, news: any) {
      if (!c.update)
        throw new Error("umlab: this component has no in-place changes (a bug: diff should replace)");
      return { outs: await c.update(olds as O, news as I) };
    },
    async delete(_id: string, props: any) {
      await c.delete(props as O);
    },
  };
}
