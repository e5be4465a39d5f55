// Shared pieces of the fuzz suite (tests/unit/fuzz): how many runs, and generators of inputs
// that are valid, nearly valid (one field replaced by something odd) and plainly hostile.
// `npm test` runs it in seconds; `npm run fuzz` runs it long (UMLAB_FUZZ_RUNS per property).
import * as fc from "fast-check";
import { UNKNOWN } from "../../../provider/core/unknown";

/** Runs of one property: its default in `npm test`, or UMLAB_FUZZ_RUNS (npm run fuzz). */
export function runs(defaultRuns: number): number {
  const n = Number(process.env.UMLAB_FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : defaultRuns;
}

/** Every generated input a property saw, per file (the suite asserts its total). */
export const counter = { inputs: 0 };

export function check<T>(arb: fc.Arbitrary<T>, body: (v: T) => void, numRuns: number): void {
  fc.assert(
    fc.property(arb, (v) => {
      counter.inputs++;
      body(v);
    }),
    { numRuns: runs(numRuns) },
  );
}

/** Strings that have broken parsers before: traversal, shell syntax, huge numbers, unicode. */
export const oddString = fc.oneof(
  fc.constantFrom(
    "",
    "/",
    "//",
    "/..",
    "/../etc/shadow",
    "/umlab/x",
    "/etc//hosts/",
    "../x",
    "-x",
    "--help",
    "a b",
    "a,b",
    "$(id)",
    "`id`",
    "'",
    '"',
    "\n",
    "\u0000",
    "9999999999M",
    "1".repeat(400) + "M",
    "64M",
    "1G",
    "g1",
    "r1",
    "/l",
    "/usr/bin/linux.uml",
    "10.0.0.1/24",
    "02:00:00:00:00:01",
    "(a+)+$",
    "[",
    UNKNOWN,
    "__proto__",
    "constructor",
  ),
  fc.string(),
  fc.string({ unit: "grapheme" }),
);

/** Any value: JSON-ish values, odd strings, odd numbers. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  oddString,
  fc.constantFrom(
    0,
    -1,
    1,
    2 ** 31,
    2 ** 53,
    Number.MAX_VALUE,
    Infinity,
    -Infinity,
    NaN,
    1e-9,
    0.5,
    true,
    false,
    null,
    undefined,
  ),
  fc.double(),
  fc.integer(),
  fc.array(oddString, { maxLength: 4 }),
  fc.dictionary(oddString, oddString, { maxKeys: 3 }),
  fc.anything({ maxDepth: 2 }),
);

/** `base` with one of its keys (or a new one) replaced by an odd value, or removed. */
export function mutated(base: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(base);
  return fc
    .tuple(fc.oneof(fc.constantFrom(...keys), oddString), oddValue, fc.boolean())
    .map(([k, v, drop]) => {
      const out: Record<string, unknown> = { ...base };
      if (drop && keys.includes(k)) delete out[k];
      else out[k] = v;
      return out;
    });
}

/** In a pool of `varied`: the key is left out. */
export const DROP = "\u0000drop";

/** `base` with a few keys replaced by values from `pools` (mostly valid alternatives). */
export function varied(
  base: Record<string, unknown>,
  pools: Record<string, unknown[]>,
): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(pools);
  return fc
    .tuple(...entries.map(([, vs]) => fc.option(fc.constantFrom(...vs), { freq: 2, nil: undefined })))
    .map((picks) => {
      const out: Record<string, unknown> = { ...base };
      picks.forEach((v, i) => {
        if (v === DROP) delete out[entries[i][0]];
        else if (v !== undefined) out[entries[i][0]] = v;
      });
      return out;
    });
}
