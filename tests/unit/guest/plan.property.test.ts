// Properties of the guest plan over generated guests and NIC lists (fast-check): the NIC plan
// turns any list into any other, nothing changed plans nothing, and the policy decides what
// reboots.
import fc from "fast-check";
import {
  planGuest,
  planNics,
  needsReplug,
  netemSettings,
  NicOp,
  REBOOT_KEYS,
} from "../../../provider/guest/plan";
import { canonical, fieldsWith } from "../../../provider/core/diff";
import { guestPolicy, nicPolicy, GuestInputs, NicInputs, UNKNOWN } from "../../../provider/core/schemas";
import { base } from "./fixtures";

const netem = fc.option(
  fc.record({
    lossPercent: fc.constantFrom(0, 10, 40),
    delayMs: fc.constantFrom(0, 20),
    jitterMs: fc.constantFrom(0, 5),
    rateKbit: fc.option(fc.constantFrom(64, 512), { nil: undefined }),
  }),
  { nil: undefined },
);

/** NICs from small pools, so that generated pairs often share a switch, a MAC, addresses. */
const nicArb: fc.Arbitrary<NicInputs> = fc.record({
  engine: fc.constantFrom("uml_switch" as const, "vde" as const),
  control: fc.constantFrom("/l/sw/a.ctl", "/l/sw/b.ctl"),
  switchInstance: fc.constantFrom("100:5", "200:9"),
  switchGeneration: fc.constantFrom("switch/a", "switch/b"),
  mac: fc.constantFrom("02:00:00:00:00:01", "02:00:00:00:00:02"),
  addresses: fc.subarray(["10.0.0.1/24", "10.0.1.1/24", "fd00::1/64"]),
  linkDown: fc.boolean(),
  netem,
});
const nicsArb = fc.array(nicArb, { maxLength: 4 });

/** What a NIC is in the running guest (the generation is only the preview's stand-in). */
const running = (n: NicInputs) => ({
  plug: [n.engine, n.control, n.switchInstance, n.mac],
  addresses: n.addresses,
  linkDown: n.linkDown,
  netem: netemSettings(n) ?? null,
});

/** Carry out NIC operations on a model of the running guest's NICs, checking their order. */
function applyOps(olds: NicInputs[], news: NicInputs[], ops: NicOp[]) {
  const list = olds.map(running);
  for (const op of ops) {
    const i = op.index;
    const n = running(news[i] ?? olds[i]);
    switch (op.kind) {
      case "detach":
        expect(i).toBe(list.length - 1); // from the end: ethN stays nics[N]
        list.pop();
        break;
      case "attach":
        expect(i).toBe(list.length);
        list.push(n);
        break;
      case "replug":
        list[i] = n; // a new interface, configured from scratch
        break;
      case "readdress": // `apply nic ethN addr` sets the link state too
        list[i] = { ...list[i], addresses: n.addresses, linkDown: n.linkDown };
        break;
      case "link":
        list[i] = { ...list[i], linkDown: n.linkDown };
        break;
      case "netem":
        list[i] = { ...list[i], netem: n.netem };
        break;
    }
  }
  return list;
}

describe("NIC plan properties", () => {
  test("applying planNics(a, b) to a yields b", () => {
    fc.assert(
      fc.property(nicsArb, nicsArb, (a, b) => {
        expect(canonical(applyOps(a, b, planNics(a, b)))).toBe(canonical(b.map(running)));
      }),
      { numRuns: 500 },
    );
  });

  test("each NIC gets at most one plug operation, and detaches come first, attaches last", () => {
    fc.assert(
      fc.property(nicsArb, nicsArb, (a, b) => {
        const ops = planNics(a, b);
        const plugs = ops.filter((o) => o.kind !== "netem").map((o) => o.index);
        expect(new Set(plugs).size).toBe(plugs.length);
        const kinds = ops.map((o) => o.kind);
        const lastDetach = kinds.lastIndexOf("detach");
        const firstAttach = kinds.indexOf("attach");
        expect(kinds.slice(lastDetach + 1).includes("detach")).toBe(false);
        if (firstAttach >= 0) expect(kinds.slice(firstAttach).every((k) => k === "attach")).toBe(true);
      }),
    );
  });

  test("with everything known, a NIC re-plugs exactly when a replace field of nicPolicy changes", () => {
    const plugKeys = fieldsWith(nicPolicy, "replace") as (keyof NicInputs)[];
    fc.assert(
      fc.property(nicArb, nicArb, (o, n) => {
        expect(needsReplug(o, n)).toBe(plugKeys.some((k) => o[k] !== n[k]));
      }),
    );
  });

  test("in a preview with the switch's outputs unknown, only a new generation, MAC or engine re-plugs", () => {
    fc.assert(
      fc.property(nicArb, nicArb, (o, n) => {
        const preview = { ...n, control: UNKNOWN, switchInstance: UNKNOWN };
        const expected =
          o.switchGeneration !== n.switchGeneration || o.mac !== n.mac || o.engine !== n.engine;
        expect(needsReplug(o, preview)).toBe(expected);
      }),
    );
  });
});

/** Guests that differ from `base` in any field, NICs included. */
const guestArb: fc.Arbitrary<GuestInputs> = fc.record({
  ...Object.fromEntries(Object.entries(base).map(([k, v]) => [k, fc.constant(v)])),
  memory: fc.constantFrom("64M", "128M"),
  nics: nicsArb,
  hostname: fc.option(fc.constantFrom("a", "b"), { nil: undefined }),
  routes: fc.subarray([
    { dest: "default", via: "10.0.0.254" },
    { dest: "10.1.0.0/16", via: "10.0.0.2" },
  ]),
  sysctls: fc.constantFrom({}, { "net.ipv4.ip_forward": "1" }, { "a.b": "1", "c.d": "2" }),
  modules: fc.subarray(["dummy", "bonding"]),
  readyTimeoutSeconds: fc.constantFrom(5, 120),
  paused: fc.boolean(),
  watchdog: fc.option(
    fc.record({ kind: fc.constant("softdog" as const), timeoutSeconds: fc.constantFrom(5, 10) }),
    {
      nil: undefined,
    },
  ),
}) as fc.Arbitrary<GuestInputs>;

/** For each replace field: values, at least two of them different. */
const REPLACE_VALUES: Record<string, unknown[]> = {
  labDir: ["/l", "/m"],
  name: ["g1", "g2"],
  kernel: ["/usr/bin/linux.uml", "/opt/linux"],
  memory: ["64M", "128M", "256M"],
  disks: [
    [{ path: "/l/disk/g1.cow", backing: "/img/base.img" }],
    [{ path: "/l/disk/g1.cow" }],
    [{ path: "/x" }],
  ],
  hostname: [undefined, "a", "other"],
  routes: [[], [{ dest: "default", via: "10.0.0.9" }]],
  sysctls: [{}, { "net.ipv4.ip_forward": "0" }],
  modules: [[], ["softdog"]],
  files: [{}, { "/etc/motd": "hi" }],
  startup: [undefined, "echo hi"],
  serial: [[], ["pts"]],
  kernelArgs: [[], ["quiet"]],
  watchdog: [undefined, { kind: "softdog", timeoutSeconds: 7 }],
};

describe("guest plan properties", () => {
  test("identical guests plan no change", () => {
    fc.assert(
      fc.property(guestArb, (g) => {
        const copy = JSON.parse(JSON.stringify(g)) as GuestInputs;
        expect(planGuest(g, copy)).toEqual({ changes: [], replaces: [], nicOps: [] });
      }),
    );
  });

  test("a change in any replace field of guestPolicy replaces and reboots", () => {
    expect(Object.keys(REPLACE_VALUES).sort()).toEqual([...REBOOT_KEYS].sort());
    expect(REBOOT_KEYS).toEqual(fieldsWith(guestPolicy, "replace"));
    fc.assert(
      fc.property(guestArb, fc.constantFrom(...REBOOT_KEYS), fc.nat(), (g, k, pick) => {
        const others = REPLACE_VALUES[k].filter((v) => canonical(v) !== canonical(g[k]));
        const news = { ...g, [k]: others[pick % others.length] };
        expect(planGuest(g, news)).toEqual({ changes: [k], replaces: [k], nicOps: [] });
      }),
    );
  });

  test("a change of only in-place fields (NICs, paused, ready timeout) never replaces", () => {
    fc.assert(
      fc.property(guestArb, nicsArb, fc.boolean(), fc.constantFrom(5, 60, 120), (g, nics, paused, t) => {
        const news = { ...g, nics, paused, readyTimeoutSeconds: t };
        const plan = planGuest(g, news);
        expect(plan.replaces).toEqual([]);
        expect(plan.changes.includes("nics")).toBe((plan.nicOps ?? []).length > 0);
        expect(plan.changes.includes("paused")).toBe(g.paused !== paused);
      }),
    );
  });
});
