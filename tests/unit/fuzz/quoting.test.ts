// Fuzz: the exec quoting (provider/exec/agent.ts). `sh -c` of commandScript(argv) must give
// the command exactly argv, whatever the words hold (quotes, $, backticks, globs, newlines,
// leading dashes, unicode): a few hundred real `sh` runs, and many more pure checks.
import { execFileSync } from "child_process";
import * as fc from "fast-check";
import { commandScript, shQuote, checkTimeout, MAX_EXEC_TIMEOUT_MS } from "../../../provider/exec/agent";
import { check, counter, runs } from "./arbitraries";

const hostile = fc.constantFrom(
  "'",
  '"',
  "\\",
  "$",
  "`",
  "\n",
  "\t",
  " ",
  "*",
  "?",
  "[",
  "~",
  "-",
  "!",
  ";",
  "&",
  "|",
  "(",
  ")",
  "{",
  "}",
  "#",
  "=",
  "%",
  "<",
  ">",
  "é",
  "☃",
  "\r",
);
const word = fc.string({
  unit: fc.oneof(hostile, fc.constantFrom("a", "b", "0", "/", "."), fc.char()),
  maxLength: 12,
});
const argv = fc.array(word, { minLength: 0, maxLength: 6 });

/** What a real sh hands to printf: each argument ended by NUL. */
function viaSh(words: string[]): string[] {
  const script = commandScript(["printf", "%s\\0", ...words]);
  const out = execFileSync("sh", ["-c", script], { encoding: "utf8" });
  return words.length === 0 ? [] : out.split("\0").slice(0, -1);
}

describe("fuzz: exec quoting", () => {
  test("sh -c commandScript(argv) passes exactly argv (real sh)", () => {
    const shRuns = Math.max(300, Math.floor(runs(300) / 20));
    fc.assert(
      fc.property(argv, (words) => {
        counter.inputs++;
        // printf with no argument after the format prints it once: compare the non-empty case.
        fc.pre(words.length > 0);
        expect(viaSh(words)).toEqual(words);
      }),
      { numRuns: shRuns },
    );
  });

  test("a quoted word is bare only when safe, and never holds an unescaped quote", () => {
    check(
      word,
      (w) => {
        const q = shQuote(w);
        if (q === w) expect(w).toMatch(/^[A-Za-z0-9_@%+=:,./-]+$/);
        else {
          expect(q.startsWith("'") && q.endsWith("'")).toBe(true);
          expect(q.slice(1, -1).split("'\\''").join("")).not.toContain("'");
        }
      },
      2000,
    );
  });

  test("argv words with a NUL byte are refused (no shell word can hold one)", () => {
    check(
      fc.tuple(word, word),
      ([a, b]) => expect(() => commandScript(["echo", `${a}\0${b}`])).toThrow(/NUL byte/),
      500,
    );
    expect(() => commandScript([])).toThrow(/empty/);
  });

  test("exec timeouts a timer cannot wait for are refused", () => {
    check(
      fc.oneof(
        fc.double({ min: MAX_EXEC_TIMEOUT_MS + 1, max: 1e300, noNaN: true }),
        fc.constantFrom(0, -1, NaN, Infinity),
      ),
      (t) => expect(() => checkTimeout(t)).toThrow(/timeoutMs .* is out of range/),
      500,
    );
    expect(checkTimeout(MAX_EXEC_TIMEOUT_MS)).toBe(MAX_EXEC_TIMEOUT_MS);
  });
});
