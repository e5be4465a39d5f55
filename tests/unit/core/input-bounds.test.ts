// Issue 16, finding 9: inputs that used to slip through. Each test feeds the bad input and
// shows it is refused with a message naming the field, or bounded.
import { crashGuest } from "../../../provider/guest/power";
import { signalGroup } from "../../../provider/host/process";
import { parseArgs, UsageError } from "../../../cli/args";
import { judge, regexMatches, RegexBudgetError } from "../../../provider/exec/checks";
import { planGuest } from "../../../provider/guest/plan";
import { checksSchema, guestSchema, impairmentSchema, validate } from "../../../provider/core/schemas";
import { base } from "../guest/fixtures";

describe("crash() and process groups", () => {
  test("pid 1, 0, negative or fractional is refused before any signal", async () => {
    for (const pid of [1, 0, -1, 1.5, NaN])
      await expect(crashGuest({ pid, instance: "1:1" })).rejects.toThrow(/crash: pid .* is not a guest's/);
    for (const pgid of [1, 0, -5, 2.5])
      expect(() => signalGroup(pgid, "SIGCONT")).toThrow(/refusing to signal process group/);
  });

  test("without the instance output crash refuses (a reused pid could be anything)", async () => {
    await expect(crashGuest({ pid: process.pid } as never)).rejects.toThrow(
      /give the Guest's instance output/,
    );
    await expect(crashGuest({ pid: process.pid, instance: "" })).rejects.toThrow(/instance output/);
  });
});

describe("CLI guest names", () => {
  test.each(["../g1", "g1/..", "/etc", "..", "G1", "-g"])("%s is not a guest name", (name) => {
    expect(() => parseArgs(["exec", name, "--", "true"])).toThrow(UsageError);
  });
  test("a good name passes", () => expect(parseArgs(["exec", "g1", "--", "true"]).guest).toBe("g1"));
});

describe("check regexes", () => {
  test("an expect that does not compile fails check, naming the field", () => {
    const r = validate(checksSchema(), {
      checks: [{ guestDir: "/l/g/g1", kind: "command", command: "true", expect: "(" }],
    });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.failures[0]).toEqual({
        property: "checks[0].expect",
        reason: expect.stringMatching(/not a valid regular expression/),
      });
    const f = validate(checksSchema(), {
      checks: [{ guestDir: "/l/g/g1", kind: "command", command: "true", expect: "a", flags: "gg" }],
    });
    expect(f.ok).toBe(false);
    if (!f.ok) expect(f.failures[0].property).toBe("checks[0].flags");
  });

  test("a catastrophic regex on hostile output stops at its time budget", () => {
    expect(() => regexMatches("^(a+)+$", "", "a".repeat(40) + "b", 100)).toThrow(RegexBudgetError);
    expect(() =>
      judge(
        { kind: "command", guestDir: "/l/g/g1", command: "x", expect: "^(a+)+$", flags: "" },
        { stdout: "a".repeat(40) + "b", exitCode: 0 },
      ),
    ).toThrow(/ran over 1000 ms .*simplify/);
    expect(regexMatches("^a+$", "", "aaa")).toBe(true);
  });
});

describe("guest plans", () => {
  test("an old state without nics plans without crashing", () => {
    const old = { ...base } as Record<string, unknown>;
    delete old.nics;
    expect(planGuest(old as never, { ...base, nics: [] })).toEqual({ changes: [], replaces: [], nicOps: [] });
  });

  test("hostname equal to the name, and '//' in a file key, plan no reboot", () => {
    const a = guestSchema().parse({ ...base, files: { "/etc/motd": "hi" } });
    const b = guestSchema().parse({ ...base, hostname: base.name, files: { "//etc//motd": "hi" } });
    expect(planGuest(a, b)).toEqual({ changes: [], replaces: [], nicOps: [] });
  });

  test("memory that would be Infinity is refused naming the cap", () => {
    const r = validate(guestSchema(), { ...base, memory: "9999999999M" });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.failures[0]).toEqual({ property: "memory", reason: expect.stringMatching(/at most 256G/) });
  });
});

describe("Impairment settings", () => {
  const base = {
    labDir: "/l",
    name: "imp",
    upstreamEngine: "vde",
    upstream: "/l/sw/sw0",
    upstreamInstance: "1:2",
  };
  test.each([
    ["delayMs", 60_001, /0\.\.60000/],
    ["delayMs", 1.5, /whole number/],
    ["lossPercent", 101, /0\.\.100/],
    ["rateKbit", -1, /0\.\.10000000/],
    ["rateKbit", 1e12, /0\.\.10000000/],
  ])("%s = %s is refused, naming the range", (field, value, why) => {
    const r = validate(impairmentSchema(), { ...base, [field]: value });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(JSON.stringify(r.failures)).toMatch(why);
    if (!r.ok) expect(JSON.stringify(r.failures)).toContain(field);
  });
  test("the largest allowed values pass", () => {
    expect(
      validate(impairmentSchema(), { ...base, delayMs: 60_000, lossPercent: 100, rateKbit: 10_000_000 }).ok,
    ).toBe(true);
  });
});
