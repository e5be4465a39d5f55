// Change sets derived from each component's change policy (core/policy.ts), with one
// equality that ignores key order and knows about values unknown during a preview.
// Pure: no I/O. Every provider's `diff` goes through `planFromPolicy`.
import { UNKNOWN } from "./unknown";
import type { ChangePolicy, Change } from "./policy";

/** JSON with sorted object keys and undefined members dropped: equality that ignores key order. */
export function canonical(v: unknown): string {
  if (v === undefined) return "null";
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v as object)
      .sort()
      .filter((k) => (v as any)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

/** Does any part of `v` (deeply) hold a value unknown during the preview? */
export function hasUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(hasUnknown);
  if (v && typeof v === "object") return Object.values(v as object).some(hasUnknown);
  return false;
}

/**
 * How a preview treats a new value that is unknown (an output of a resource being updated):
 * - "same": as unchanged (it is compared again, known, at `up`); for values that change only
 *   when something else visible in the plan changes (a switch's instance, a guest's boot id);
 * - "changed": as a change.
 */
export type UnknownAs = "same" | "changed";

/** Equal, where an unknown part of `news` matches anything (arrays and objects compared by shape). */
function matches(olds: unknown, news: unknown): boolean {
  if (news === UNKNOWN) return true;
  if (Array.isArray(news))
    return Array.isArray(olds) && olds.length === news.length && news.every((v, i) => matches(olds[i], v));
  if (news && typeof news === "object") {
    if (!olds || typeof olds !== "object" || Array.isArray(olds)) return false;
    const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
    return [...keys].every((k) => matches((olds as any)[k], (news as any)[k]));
  }
  return canonical(olds) === canonical(news);
}

/**
 * Is `news` the same value as `olds`? Booleans compare as `!!v` (absent = false). With
 * `unknownAs: "same"` an unknown part of `news` matches whatever is there; with "changed" a
 * value holding an unknown is a change.
 */
export function same(olds: unknown, news: unknown, unknownAs: UnknownAs = "changed"): boolean {
  if (hasUnknown(news)) return unknownAs === "same" && matches(olds, news);
  if (typeof olds === "boolean" || typeof news === "boolean") return !!olds === !!news;
  return canonical(olds) === canonical(news);
}

export interface PolicyPlan {
  /** Every input whose value changed (in place or not). */
  changes: string[];
  /** The inputs whose change replaces the resource. */
  replaces: string[];
}

/** The fields of `policy` with the given change kind, in declaration order. */
export function fieldsWith(policy: ChangePolicy<any>, change: Change): string[] {
  return Object.entries(policy)
    .filter(([, f]) => f.change === change)
    .map(([k]) => k);
}

/** What changed between `olds` and `news`, and which of those replace, from the policy. */
export function planFromPolicy(
  policy: ChangePolicy<any>,
  olds: Record<string, any>,
  news: Record<string, any>,
): PolicyPlan {
  const changes: string[] = [];
  const replaces: string[] = [];
  for (const [k, f] of Object.entries(policy)) {
    if (f.change === "derived") continue;
    if (same(olds[k], news[k], f.unknown ?? "changed")) continue;
    changes.push(k);
    if (f.change === "replace") replaces.push(k);
  }
  return { changes, replaces };
}

/** The Pulumi diff result of a policy plan (replacing components share paths: delete first). */
export function diffResult(plan: PolicyPlan): {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
} {
  return { changes: plan.changes.length > 0, replaces: plan.replaces, deleteBeforeReplace: true };
}

/**
 * A text that changes exactly when a replace-triggering input changes, known at preview time
 * (the SDK hands it to dependants, e.g. NICs, which must re-plug when their switch is replaced).
 */
export function generation(kind: string, policy: ChangePolicy<any>, inputs: Record<string, any>): string {
  const keys = fieldsWith(policy, "replace").filter((k) => k !== "labDir");
  return `${kind}/${canonical(Object.fromEntries(keys.map((k) => [k, inputs[k]])))}`;
}
