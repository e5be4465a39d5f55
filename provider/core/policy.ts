// The change policy of a component input: what a change to the field does to the running
// thing. Each component declares one table beside its schema (core/schemas/<component>.ts);
// `diff` (core/diff.ts), the replace lists and the SDK's generation keys all derive from
// those tables, and a unit test fails when a schema field has no entry.

/**
 * - "replace": the thing is rebuilt (a guest reboots, a switch restarts);
 * - "inPlace": applied to the running thing (a NIC re-plug, SIGSTOP of a switch);
 * - "derived": not compared on its own: it is part of another field's plan (a guest's NICs).
 */
export type Change = "replace" | "inPlace" | "derived";

export interface FieldPolicy {
  change: Change;
  /** How a preview treats an unknown new value (core/diff.ts UnknownAs); default "changed". */
  unknown?: "same" | "changed";
  /** Why, in a few words. */
  why: string;
}

/** One entry per input field: TypeScript refuses a table that misses a field. */
export type ChangePolicy<T> = { readonly [K in keyof T]-?: FieldPolicy };

export const replace = (why: string, unknown?: "same" | "changed"): FieldPolicy => ({
  change: "replace",
  why,
  ...(unknown ? { unknown } : {}),
});
export const inPlace = (why: string, unknown?: "same" | "changed"): FieldPolicy => ({
  change: "inPlace",
  why,
  ...(unknown ? { unknown } : {}),
});
export const derived = (why: string): FieldPolicy => ({ change: "derived", why });
