// The guest's pure plan (provider/guest/plan.ts): what reboots it, what changes its NICs in place.
import { planGuest, planNics, REBOOT_KEYS, SWITCH_GONE } from "../../../provider/guest/plan";
import { contractConfig } from "../../../provider/guest/boot";
import { canonical } from "../../../provider/core/diff";
import { GuestInputs, NicInputs, UNKNOWN } from "../../../provider/core/schemas";
import { nic, base } from "./fixtures";

describe("guest plan", () => {
  test("an unchanged guest has no diff", () => {
    expect(planGuest(base, { ...base })).toEqual({ changes: [], replaces: [], nicOps: [] });
  });

  const rebootChanges: [string, Partial<GuestInputs>][] = [
    ["memory", { memory: "128M" }],
    ["disks", { disks: [{ path: "/l/disk/g1.cow", backing: "/img/other.img" }] }],
    ["kernel", { kernel: "/opt/linux" }],
    ["kernelArgs", { kernelArgs: ["quiet"] }],
    ["hostname", { hostname: "other" }],
    ["routes", { routes: [{ dest: "default", via: "10.0.0.254" }] }],
    ["sysctls", { sysctls: { "net.ipv4.ip_forward": "1" } }],
    ["modules", { modules: ["dummy"] }],
    ["files", { files: { "/etc/motd": "hi" } }],
    ["startup", { startup: "echo hi" }],
    ["serial", { serial: ["pts"] }],
    ["watchdog", { watchdog: { kind: "softdog", timeoutSeconds: 5 } }],
    ["name", { name: "g2" }],
    ["labDir", { labDir: "/m" }],
  ];
  test.each(rebootChanges)("changing %s needs a reboot: replace", (key, over) => {
    expect(planGuest(base, { ...base, ...over })).toEqual({ changes: [key], replaces: [key], nicOps: [] });
  });

  test("every reboot key is covered above", () => {
    expect(new Set(rebootChanges.map(([k]) => k))).toEqual(new Set(REBOOT_KEYS));
  });

  test("adding a NIC to a running guest is an in-place update (attach), not a replace", () => {
    const plan = planGuest(base, {
      ...base,
      nics: [nic(), nic({ control: "/l/sw/sw1.ctl", mac: "02:00:00:00:00:02" })],
    });
    expect(plan).toEqual({ changes: ["nics"], replaces: [], nicOps: [{ kind: "attach", index: 1 }] });
  });

  test("removing the last NIC is an in-place detach", () => {
    expect(planGuest(base, { ...base, nics: [] })).toEqual({
      changes: ["nics"],
      replaces: [],
      nicOps: [{ kind: "detach", index: 0 }],
    });
  });

  test("moving a NIC to another switch is an in-place re-plug", () => {
    expect(planGuest(base, { ...base, nics: [nic({ control: "/l/sw/sw1.ctl" })] }).nicOps).toEqual([
      { kind: "replug", index: 0 },
    ]);
  });

  test("a restarted or replaced switch (new instance) re-plugs its NICs in place", () => {
    const plan = planGuest(base, { ...base, nics: [nic({ switchInstance: "200:9" })] });
    expect(plan).toEqual({ changes: ["nics"], replaces: [], nicOps: [{ kind: "replug", index: 0 }] });
  });

  // During a preview, a switch being updated or created has unknown outputs.
  const previewOf = (over: Partial<NicInputs> = {}) =>
    nic({ control: UNKNOWN, switchInstance: UNKNOWN, ...over });

  test("a switch updated in place (suspended) is no change for its guests in a preview", () => {
    expect(planGuest(base, { ...base, nics: [previewOf()] })).toEqual({
      changes: [],
      replaces: [],
      nicOps: [],
    });
  });

  test("a switch being replaced (new generation) previews as an in-place re-plug", () => {
    const plan = planGuest(base, {
      ...base,
      nics: [previewOf({ switchGeneration: "switch/sw0/vde/learning" })],
    });
    expect(plan.replaces).toEqual([]);
    expect(plan.nicOps).toEqual([{ kind: "replug", index: 0 }]);
  });

  test("a switch that refresh found dead previews as a re-plug, and is re-plugged at apply time", () => {
    const olds = { ...base, nics: [nic({ switchInstance: SWITCH_GONE })] };
    expect(planGuest(olds, { ...base, nics: [previewOf()] }).nicOps).toEqual([{ kind: "replug", index: 0 }]);
    expect(planGuest(olds, { ...base, nics: [nic({ switchInstance: "300:1" })] }).nicOps).toEqual([
      { kind: "replug", index: 0 },
    ]);
  });

  test("a new MAC re-plugs even while the switch's outputs are unknown", () => {
    expect(planGuest(base, { ...base, nics: [previewOf({ mac: "02:00:00:00:00:09" })] }).nicOps).toEqual([
      { kind: "replug", index: 0 },
    ]);
  });

  test("a whole NIC list unknown (e.g. a dependency being replaced) is an update decided at apply time", () => {
    expect(planGuest(base, { ...base, nics: UNKNOWN })).toEqual({
      changes: ["nics"],
      replaces: [],
      nicOps: undefined,
    });
  });

  test("a new MAC re-plugs; new addresses only re-address", () => {
    expect(planNics([nic()], [nic({ mac: "02:00:00:00:00:09" })])).toEqual([{ kind: "replug", index: 0 }]);
    expect(planNics([nic()], [nic({ addresses: ["10.0.0.9/24"] })])).toEqual([
      { kind: "readdress", index: 0 },
    ]);
  });

  test("taking a link down or up is an in-place link change, kept in the boot config", () => {
    expect(planNics([nic()], [nic({ linkDown: true })])).toEqual([{ kind: "link", index: 0 }]);
    expect(planGuest(base, { ...base, nics: [nic({ linkDown: true })] }).replaces).toEqual([]);
    expect(contractConfig({ ...base, nics: [nic({ linkDown: true })] })).toContain("down eth0\n");
    // A re-plugged or re-addressed NIC that is meant to be down stays down: init.test.ts.
  });

  test("setting, changing or removing netem is an in-place netem change, kept in the boot config", () => {
    const lossy = nic({ netem: { lossPercent: 40, delayMs: 0, jitterMs: 0 } });
    expect(planNics([nic()], [lossy])).toEqual([{ kind: "netem", index: 0 }]);
    expect(planNics([lossy], [nic()])).toEqual([{ kind: "netem", index: 0 }]);
    expect(planNics([lossy], [nic({ netem: { lossPercent: 40, delayMs: 20, jitterMs: 0 } })])).toEqual([
      { kind: "netem", index: 0 },
    ]);
    const plan = planGuest(base, { ...base, nics: [lossy] });
    expect(plan).toEqual({ changes: ["nics"], replaces: [], nicOps: [{ kind: "netem", index: 0 }] });
    // All zero is no netem: no change from none, and no config line.
    const zero = nic({ netem: { lossPercent: 0, delayMs: 0, jitterMs: 0 } });
    expect(planNics([nic()], [zero])).toEqual([]);
    expect(contractConfig({ ...base, nics: [zero] })).not.toContain("netem");
    expect(contractConfig({ ...base, nics: [lossy] })).toContain(
      "netem eth0 loss 40 delay 0 jitter 0 rate 0\n",
    );
    // Readdressed and netem changed at once: both; re-plugged: the re-plug re-applies netem.
    expect(planNics([nic()], [{ ...lossy, addresses: ["10.0.0.9/24"] }])).toEqual([
      { kind: "readdress", index: 0 },
      { kind: "netem", index: 0 },
    ]);
    expect(planNics([nic()], [{ ...lossy, switchInstance: "9:9" }])).toEqual([{ kind: "replug", index: 0 }]);
  });

  test("NIC operations are ordered: detaches from the end first, then re-plugs, then attaches", () => {
    const olds = [nic(), nic({ mac: "02:00:00:00:00:02" }), nic({ mac: "02:00:00:00:00:03" })];
    const news = [nic({ switchInstance: "9:9" })];
    expect(planNics(olds, news)).toEqual([
      { kind: "detach", index: 2 },
      { kind: "detach", index: 1 },
      { kind: "replug", index: 0 },
    ]);
    expect(planNics([], [nic(), nic()])).toEqual([
      { kind: "attach", index: 0 },
      { kind: "attach", index: 1 },
    ]);
  });

  test("a changed ready timeout is a change with nothing to do in the guest", () => {
    expect(planGuest(base, { ...base, readyTimeoutSeconds: 5 })).toEqual({
      changes: ["readyTimeoutSeconds"],
      replaces: [],
      nicOps: [],
    });
  });

  test("key order in records does not count as a change", () => {
    expect(canonical({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(canonical({ b: [1, { d: 3, c: 2 }], a: 1 }));
    const a = { ...base, sysctls: { "a.b": "1", "c.d": "2" } };
    const b = { ...base, sysctls: { "c.d": "2", "a.b": "1" } };
    expect(planGuest(a, b).changes).toEqual([]);
  });
});
