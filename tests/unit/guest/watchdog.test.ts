// The Guest's watchdog option: validation naming the field, the plan (a change reboots), and
// the contract's `watchdog <kind> <seconds>` config line.
import { checkGuest } from "../../../provider/guest/provider";
import { planGuest, REBOOT_KEYS } from "../../../provider/guest/plan";
import { contractConfig } from "../../../provider/guest/boot";
import { GuestInputs } from "../../../provider/core/schemas";
import { preflight } from "../../../sdk/validate";
import { schemas } from "../../../provider/core/schemas";

const raw = (over: Record<string, unknown> = {}) => ({
  labDir: "/var/tmp/umlab/x",
  name: "g1",
  disks: [{ path: "/var/tmp/umlab/x/disk/g1.cow", backing: "/img/base.img" }],
  ...over,
});

function checked(over: Record<string, unknown> = {}): GuestInputs {
  const r = checkGuest(raw(over));
  if (r.failures) throw new Error(JSON.stringify(r.failures));
  return r.inputs as GuestInputs;
}

describe("Guest watchdog", () => {
  test("defaults: softdog, 10 s; no watchdog unless asked for", () => {
    expect(checked({ watchdog: {} }).watchdog).toEqual({ kind: "softdog", timeoutSeconds: 10 });
    expect(checked({ watchdog: { timeoutSeconds: 5 } }).watchdog).toEqual({
      kind: "softdog",
      timeoutSeconds: 5,
    });
    expect(checked().watchdog).toBeUndefined();
  });

  test.each([0, 601, 2.5, -1, "10"])("timeoutSeconds %p is refused, naming the field", (v) => {
    expect(checkGuest(raw({ watchdog: { timeoutSeconds: v } })).failures).toEqual([
      { property: "watchdog.timeoutSeconds", reason: "use 1..600 seconds" },
    ]);
    expect(() => preflight("Guest", "g1", schemas().guest, raw({ watchdog: { timeoutSeconds: v } }))).toThrow(
      'umlab Guest "g1": watchdog.timeoutSeconds: use 1..600 seconds',
    );
  });

  test("1 and 600 seconds are fine", () => {
    expect(checked({ watchdog: { timeoutSeconds: 1 } }).watchdog?.timeoutSeconds).toBe(1);
    expect(checked({ watchdog: { timeoutSeconds: 600 } }).watchdog?.timeoutSeconds).toBe(600);
  });

  test('kind "uml" (UML\'s harddog) is refused with the reason; unknown keys too', () => {
    const f = checkGuest(raw({ watchdog: { kind: "uml" } })).failures ?? [];
    expect(f).toHaveLength(1);
    expect(f[0].property).toBe("watchdog.kind");
    expect(f[0].reason).toMatch(/use "softdog": UML's own harddog .* kills the whole guest/);
    expect((checkGuest(raw({ watchdog: { timeout: 5 } })).failures ?? [])[0].reason).toMatch(/timeout/);
  });

  test("adding, changing or removing the watchdog reboots the guest (replace)", () => {
    expect(REBOOT_KEYS).toContain("watchdog");
    const none = checked();
    const five = checked({ watchdog: { timeoutSeconds: 5 } });
    const six = checked({ watchdog: { timeoutSeconds: 6 } });
    for (const [a, b] of [
      [none, five],
      [five, six],
      [five, none],
    ])
      expect(planGuest(a, b)).toEqual({ changes: ["watchdog"], replaces: ["watchdog"], nicOps: [] });
    expect(planGuest(five, checked({ watchdog: { timeoutSeconds: 5, kind: "softdog" } })).changes).toEqual(
      [],
    );
  });

  test("the config line tells the guest the kind and the timeout, after the modules", () => {
    expect(contractConfig(checked({ watchdog: { timeoutSeconds: 5 }, modules: ["dummy"] }))).toBe(
      "hostname g1\nmodule dummy\nwatchdog softdog 5\n",
    );
    expect(contractConfig(checked())).not.toMatch(/watchdog/);
  });
});
