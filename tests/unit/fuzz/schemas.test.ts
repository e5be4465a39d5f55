// Fuzz: every component schema (provider/core/schemas) gets random, nearly valid and hostile
// inputs. Parsing never throws (a failure is a list of named reasons, never a crash), and no
// input of the known-bad classes of issue 16 is ever accepted: guest memory beyond the cap or
// Infinity, `files` keys "/", "/umlab/...", with "." or ".." (and keys normalized: "//etc//hosts"
// is "/etc/hosts"), module names starting with "-", timeouts a timer cannot wait for, `expect`
// or `flags` that do not compile.
import * as fc from "fast-check";
import * as s from "../../../provider/core/schemas";
import { base as guestBase, nic } from "../guest/fixtures";
import { check, counter, mutated, oddString, oddValue, varied, DROP } from "./arbitraries";

const guestDir = "/l/g/g1";
const bases: Record<
  string,
  [() => { safeParse: (v: unknown) => { success: boolean; data?: any } }, Record<string, unknown>]
> = {
  guest: [s.guestSchema, { ...guestBase, nics: [nic()] }],
  nic: [s.nicSchema, nic()],
  switch: [s.switchSchema, { labDir: "/l", name: "sw0", engine: "vde", hub: false, suspended: false }],
  cowDisk: [s.cowDiskSchema, { labDir: "/l", name: "g1", backing: "/img/a.img" }],
  sharedDisk: [s.sharedDiskSchema, { labDir: "/l", name: "data", sizeMiB: 16 }],
  labRuntime: [s.labRuntimeSchema, { root: "/var/tmp/umlab", labId: "lab-1" }],
  tap: [
    s.tapSchema,
    { labDir: "/l", name: "tap0", engine: "vde", control: "/l/sw/x", switchInstance: "1:2" },
  ],
  capture: [s.captureSchema, { labDir: "/l", name: "cap", mode: "plug", engine: "vde", control: "/l/sw/x" }],
  serialCable: [s.serialCableSchema, { labDir: "/l", name: "cable", log: true }],
  impairment: [
    s.impairmentSchema,
    {
      labDir: "/l",
      name: "imp",
      upstreamEngine: "vde",
      upstream: "/l/sw/x",
      upstreamInstance: "1:2",
      lossPercent: 5,
    },
  ],
  exec: [s.execSchema, { guestDir, command: ["echo", "hi"], timeoutSeconds: 5 }],
  checks: [
    s.checksSchema,
    { checks: [{ guestDir, kind: "command", command: "true", expect: "ok", flags: "i" }] },
  ],
  image: [s.imageArgsSchema, { preset: "busybox", modules: ["dummy"], sizeMb: 64 }],
  imagePlan: [s.imagePlanSchema, { preset: "debian", packages: ["frr"], key: "k" }],
};

/** The issue-16 invariants of an accepted value (each schema's output). */
function assertSafe(kind: string, v: any): void {
  if (kind === "guest") {
    const mib = s.memoryMiB(v.memory);
    expect(Number.isFinite(mib) && mib >= 48 && mib <= s.MAX_MEMORY_MIB).toBe(true);
    for (const k of Object.keys(v.files)) {
      expect(k).toBe(s.normalizeGuestPath(k));
      expect(s.guestPathProblem(k)).toBeUndefined();
    }
    for (const m of v.modules) expect(m.startsWith("-")).toBe(false);
  }
  if (kind === "image" && v.modules) for (const m of v.modules) expect(m.startsWith("-")).toBe(false);
  if (kind === "exec") expect(v.timeoutSeconds * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
  if (kind === "checks") {
    expect(v.deadlineSeconds * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
    for (const c of v.checks)
      if (c.kind === "command") expect(() => new RegExp(c.expect ?? "", c.flags)).not.toThrow();
  }
}

function parse(kind: string, value: unknown): { success: boolean; data?: any } {
  const r = bases[kind][0]().safeParse(value); // must never throw
  if (r.success) assertSafe(kind, r.data);
  return r;
}

describe("fuzz: schemas never crash and accept nothing of the bad classes", () => {
  test.each(Object.keys(bases))("%s: its base parses; anything and one odd field never crash", (kind) => {
    expect(parse(kind, bases[kind][1]).success).toBe(true);
    check(oddValue, (v) => void parse(kind, v), 150);
    check(mutated(bases[kind][1]), (v) => void parse(kind, v), 400);
  });

  test("guest memory: beyond 256G, Infinity or junk is refused", () => {
    const huge = fc.oneof(
      fc.bigInt({ min: 262145n, max: 10n ** 30n }).map((n) => `${n}M`),
      fc.bigInt({ min: 257n, max: 10n ** 30n }).map((n) => `${n}G`),
      fc.constantFrom("9999999999M", "1".repeat(400) + "M", "InfinityM", "1e9M", "-64M", "64.5M"),
    );
    check(huge, (m) => expect(parse("guest", { ...guestBase, memory: m }).success).toBe(false), 500);
    expect(parse("guest", { ...guestBase, memory: "256G" }).success).toBe(true);
  });

  test("guest files: '/', '/umlab/...', '.' and '..' keys are refused; '//etc//hosts' is '/etc/hosts'", () => {
    const segment = fc.constantFrom("etc", "hosts", "a.b", "x-y", "", "", ".", "..", "umlab");
    const key = fc.array(segment, { maxLength: 5 }).map((parts) => "/" + parts.join("/"));
    check(
      key,
      (k) => {
        const r = parse("guest", { ...guestBase, files: { [k]: "x" } });
        const parts = k.split("/").filter((p) => p !== "");
        const bad = parts.length === 0 || parts.includes(".") || parts.includes("..") || parts[0] === "umlab";
        expect(r.success).toBe(!bad);
        if (r.success) expect(Object.keys(r.data.files)).toEqual(["/" + parts.join("/")]);
      },
      800,
    );
    // Two keys naming one file are refused, not silently merged.
    const r = s.guestSchema().safeParse({ ...guestBase, files: { "/etc/hosts": "a", "//etc//hosts": "b" } });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0].message).toMatch(/are the same file \/etc\/hosts/);
  });

  test("module names starting with '-' are refused (guest and image)", () => {
    const mod = fc
      .tuple(fc.constantFrom("-", "--", "-r"), fc.stringMatching(/^[a-z0-9_-]{0,8}$/))
      .map(([a, b]) => a + b);
    check(
      mod,
      (m) => {
        expect(parse("guest", { ...guestBase, modules: [m] }).success).toBe(false);
        expect(parse("image", { preset: "busybox", modules: [m] }).success).toBe(false);
      },
      500,
    );
  });

  test("exec and checks timeouts a timer cannot wait for are refused", () => {
    const tooLong = fc.oneof(fc.double({ min: 2147484, max: 1e300, noNaN: true }), fc.constant(Infinity));
    check(
      tooLong,
      (t) => {
        expect(parse("exec", { guestDir, command: "true", timeoutSeconds: t }).success).toBe(false);
        expect(parse("checks", { ...bases.checks[1], deadlineSeconds: t }).success).toBe(false);
      },
      500,
    );
  });

  test("a check's expect or flags that do not compile are refused at check time, naming the field", () => {
    const pattern = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom("[", "(", "a{2,1}", "\\", "*", "(?<", "[z-a]"),
    );
    const flags = fc.oneof(
      fc.constantFrom("", "i", "g", "gi", "ii", "x", "u", "uv", "Q"),
      fc.string({ maxLength: 3 }),
    );
    check(
      fc.tuple(pattern, flags),
      ([p, f]) => {
        let compiles = true;
        try {
          new RegExp(p, f);
        } catch {
          compiles = false;
        }
        const r = s
          .checksSchema()
          .safeParse({ checks: [{ guestDir, kind: "command", command: "true", expect: p, flags: f }] });
        expect(r.success).toBe(compiles);
        if (!r.success)
          expect(r.error.issues.map((i) => i.path.join("."))).toContainEqual(
            expect.stringMatching(/^checks\.0\.(expect|flags)$/),
          );
      },
      800,
    );
  });

  test("varied guests parse to normalized values", () => {
    const pools = {
      hostname: [DROP, "g1", "h1"],
      files: [{}, { "//etc//hosts": "x" }, { "/etc/hosts/": "x" }, { "/a/./b": "x" }],
      modules: [[], ["dummy"], ["-r"]],
      memory: ["64M", "9999999999M", "1G", "48M"],
      nics: [[], [nic()], [nic(), nic({ mac: "02:00:00:00:00:02" })], oddString],
    };
    check(varied(guestBase, pools), (g) => void parse("guest", g), 500);
  });

  afterAll(() => {
    // 13 schemas x 550 + 500 + 800 + 500 + 500 + 800 + 500 by default.
    if (!process.env.UMLAB_FUZZ_RUNS) expect(counter.inputs).toBeGreaterThanOrEqual(10_000);
  });
});
