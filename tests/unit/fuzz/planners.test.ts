// Fuzz: every planner (guest planGuest/planNics, the net/lab/disk plans, the image plan,
// core/diff, planExec) on validated inputs and their variations: none throws, a value
// compared with itself plans nothing, and inputs that name the same guest (hostname unset or
// equal to the name, "//" in a file key, an old state without `nics`) plan no reboot.
import * as fc from "fast-check";
import * as s from "../../../provider/core/schemas";
import { canonical, same, planFromPolicy, hasUnknown } from "../../../provider/core/diff";
import { planGuest, planNics } from "../../../provider/guest/plan";
import { planSwitch } from "../../../provider/net/switch";
import { planTap } from "../../../provider/net/tap";
import { planCapture } from "../../../provider/net/capture";
import { planSerialCable } from "../../../provider/net/serial";
import { planImpairment } from "../../../provider/net/impairment";
import { planLabRuntime } from "../../../provider/lab/runtime";
import { planCowDisk } from "../../../provider/disk/cowdisk";
import { planExec } from "../../../provider/exec/provider";
import { imageKey, normalizeSpec, diffImageInputs } from "../../../provider/image/plan";
import { base as guestBase, nic } from "../guest/fixtures";
import { check, counter, oddValue, varied, DROP } from "./arbitraries";

const U = s.UNKNOWN;
const nicPool = [
  [],
  [nic()],
  [nic({ addresses: ["10.0.0.2/24"] })],
  [nic({ linkDown: true })],
  [nic({ switchInstance: "101:5" })],
  [nic({ control: U, switchInstance: U as string })],
  [nic({ netem: { lossPercent: 5, delayMs: 0, jitterMs: 0 } })],
  [nic(), nic({ mac: "02:00:00:00:00:02" })],
  U,
  DROP,
];
const guestArb = varied(guestBase, {
  name: ["g1", "g2"],
  hostname: [DROP, "g1", "g2", "h"],
  memory: ["64M", "128M"],
  files: [{}, { "/etc/hosts": "x" }, { "//etc//hosts": "x" }, { "/etc/hosts": "y" }],
  nics: nicPool,
  routes: [[], [{ dest: "default", via: "10.0.0.254" }]],
  paused: [true, false],
  labDir: ["/l", U],
}).map((raw) => {
  const r = s.guestSchema().safeParse(raw);
  // A state from before NICs: no `nics` at all.
  if (r.success && raw.nics === undefined) delete (r.data as Partial<s.GuestInputs>).nics;
  return r.success ? r.data : ({ ...guestBase } as s.GuestInputs);
});

/** A guest as a user might write the same thing differently. */
function respelled(g: s.GuestInputs): s.GuestInputs {
  const files = Object.fromEntries(
    Object.entries(g.files ?? {}).map(([k, v]) => [k.replace(/\//g, "//"), v]),
  );
  return { ...g, hostname: g.hostname ?? g.name, files };
}

const planners: [
  string,
  (a: any, b: any) => { changes?: boolean | string[] },
  () => any,
  Record<string, unknown>,
  Record<string, unknown[]>,
][] = [
  [
    "switch",
    planSwitch,
    s.switchSchema,
    { labDir: "/l", name: "sw0" },
    { engine: ["vde", "uml_switch"], hub: [true, false], suspended: [true, false], labDir: ["/l", U] },
  ],
  [
    "tap",
    planTap,
    s.tapSchema,
    { labDir: "/l", name: "tap0", engine: "vde", control: "/l/x", switchInstance: "1:2" },
    { addresses: [[], ["10.0.0.1/24"], [U]], control: ["/l/x", U], switchInstance: ["1:2", "3:4", U] },
  ],
  [
    "capture",
    planCapture,
    s.captureSchema,
    { labDir: "/l", name: "cap", mode: "plug" },
    {
      mode: ["plug", "tap"],
      engine: ["vde", U, DROP],
      control: ["/l/x", U, DROP],
      file: ["/l/c.pcap", U, DROP],
    },
  ],
  [
    "serialCable",
    planSerialCable,
    s.serialCableSchema,
    { labDir: "/l", name: "c" },
    { log: [true, false], name: ["c", "d"] },
  ],
  [
    "impairment",
    planImpairment,
    s.impairmentSchema,
    { labDir: "/l", name: "i", upstreamEngine: "vde", upstream: "/l/x", upstreamInstance: "1:2" },
    {
      lossPercent: [0, 5, 100],
      delayMs: [0, 10],
      rateKbit: [0, 100],
      upstream: ["/l/x", U],
      upstreamInstance: ["1:2", U],
    },
  ],
  [
    "labRuntime",
    planLabRuntime,
    s.labRuntimeSchema,
    { root: "/r", labId: "a" },
    { root: ["/r", "/s"], labId: ["a", "b"] },
  ],
  [
    "cowDisk",
    planCowDisk,
    s.cowDiskSchema,
    { labDir: "/l", name: "g1", backing: "/i.img" },
    { backing: ["/i.img", "/j.img", U], create: ["mkcow", "boot"], backingVersion: ["", "v2"] },
  ],
  [
    "exec",
    planExec,
    s.execSchema,
    { guestDir: "/l/g/g1", command: "true" },
    {
      command: ["true", ["true"], ["a", "b"]],
      triggers: [[], ["x"], [{ 0: "x" }], [U]],
      bootId: ["", "b1", U],
      timeoutSeconds: [5, 60],
    },
  ],
];

function hasChanges(r: { changes?: boolean | string[] }): boolean {
  return Array.isArray(r.changes) ? r.changes.length > 0 : !!r.changes;
}

describe("fuzz: planners never crash; the same value plans nothing", () => {
  test("planGuest: random pairs never throw; a guest against itself or respelled plans nothing", () => {
    check(
      fc.tuple(guestArb, guestArb),
      ([a, b]) => {
        const p = planGuest(a, b);
        expect(p.replaces.every((k) => p.changes.includes(k))).toBe(true);
        if (hasUnknown(a)) return; // a preview: unknowns are judged at `up`
        expect(planGuest(a, a).changes).toEqual([]);
        const again = planGuest(a, respelled(a));
        expect(again.replaces).toEqual([]);
        expect(again.changes).toEqual([]);
      },
      1000,
    );
  });

  test("planNics: ops stay in range, one op kind per index at most once, none for equal lists", () => {
    const nicsArb = fc.array(
      fc.constantFrom(
        nic(),
        nic({ addresses: [] }),
        nic({ linkDown: true }),
        nic({ mac: "02:00:00:00:00:09" }),
        nic({ switchInstance: s.UNKNOWN, control: s.UNKNOWN, switchGeneration: "g2" }),
        nic({ netem: { lossPercent: 1, delayMs: 0, jitterMs: 0 } }),
      ),
      { maxLength: 5 },
    );
    check(
      fc.tuple(nicsArb, nicsArb),
      ([a, b]) => {
        const ops = planNics(a, b);
        for (const op of ops) expect(op.index).toBeLessThan(Math.max(a.length, b.length));
        expect(new Set(ops.map((o) => `${o.kind}${o.index}`)).size).toBe(ops.length);
        const known = b.filter((n) => !hasUnknown(n));
        expect(planNics(known, known)).toEqual([]);
      },
      1000,
    );
  });

  test.each(planners.map((p) => [p[0], p] as const))(
    "%s plan: varied inputs never throw; itself plans nothing",
    (_name, p) => {
      const [, plan, schema, base, pools] = p;
      const arb = varied(base, pools)
        .map((raw) => schema().safeParse(raw))
        .filter((r: any) => r.success)
        .map((r: any) => r.data);
      check(
        fc.tuple(arb, arb),
        ([a, b]) => {
          plan(a, b);
          if (!JSON.stringify(a).includes(U)) expect(hasChanges(plan(a, a))).toBe(false);
        },
        400,
      );
    },
  );

  test("exec triggers: [x] and {0: x} differ, and key order never matters", () => {
    check(
      fc.tuple(fc.jsonValue(), fc.jsonValue()),
      ([x, y]) => {
        expect(planExec({ triggers: [x] }, { triggers: [{ 0: x }] }).replaces).toEqual(["triggers"]);
        expect(same({ a: x, b: y }, { b: y, a: x })).toBe(true);
        expect(same([x], { 0: x })).toBe(false);
        expect(canonical(x)).toBe(canonical(JSON.parse(JSON.stringify(x))));
      },
      800,
    );
  });

  test("planFromPolicy over odd values never throws", () => {
    check(
      fc.tuple(oddValue, oddValue),
      ([a, b]) => void planFromPolicy(s.execPolicy, { triggers: a }, { triggers: b }),
      500,
    );
  });

  test("image plan: the key and the diff of validated args never throw; itself has no diff", () => {
    const argsArb = varied(
      {},
      {
        preset: ["busybox", "debian", DROP],
        dir: ["/srv/root", DROP],
        packages: [["frr"], ["frr", "frr"], [], DROP],
        modules: [["dummy"], ["-x"], DROP],
        sizeMb: [64, 8, DROP],
        mirror: ["http://m/debian", DROP],
      },
    )
      .map((raw) => s.imageArgsSchema().safeParse(raw))
      .filter((r) => r.success)
      .map((r) => r.data as s.ImageArgsInput);
    const facts = { kernelVersion: "6.1.176", initSha256: "aa" };
    const hostInfo = { env: {}, homedir: "/home/u", hostSuite: "bookworm" };
    check(
      fc.tuple(argsArb, argsArb),
      ([a, b]) => {
        const ka = imageKey(normalizeSpec(a, hostInfo), facts);
        const kb = imageKey(normalizeSpec(b, hostInfo), facts);
        expect(diffImageInputs({ ...a, key: ka }, { ...a, key: ka })).toEqual([]);
        diffImageInputs({ ...a, key: ka }, { ...b, key: kb });
      },
      500,
    );
  });

  afterAll(() => {
    if (!process.env.UMLAB_FUZZ_RUNS) expect(counter.inputs).toBeGreaterThanOrEqual(5_000);
  });
});
