// The switch's plan and argv: what previews as an update, what as a restart.
import { planSwitch, switchCommand } from "../../../provider/net/switch";
import { SwitchInputs } from "../../../provider/core/schemas";

describe("switch plan", () => {
  const base: SwitchInputs = {
    labDir: "/l",
    name: "sw0",
    engine: "uml_switch",
    hub: false,
    suspended: false,
  };
  test("no change, no diff", () => {
    expect(planSwitch(base, { ...base })).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });
  test.each([
    ["engine", { engine: "vde" as const }],
    ["hub", { hub: true }],
    ["name", { name: "sw1" }],
    ["labDir", { labDir: "/m" }],
  ])("changing %s restarts the switch (replace, delete first: same socket path)", (key, over) => {
    expect(planSwitch(base, { ...base, ...over })).toEqual({
      changes: true,
      replaces: [key],
      deleteBeforeReplace: true,
    });
  });
  test("suspending a switch is an in-place update, not a replace", () => {
    const sw: SwitchInputs = { labDir: "/l", name: "sw0", engine: "vde", hub: true, suspended: false };
    expect(planSwitch(sw, { ...sw, suspended: true })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });
  test("commands: uml_switch in the foreground, vde_switch as a daemon with a pid file", () => {
    expect(switchCommand({ ...base, hub: true })).toEqual({
      cmd: "uml_switch",
      args: ["-unix", "/l/sw/sw0.ctl", "-hub"],
    });
    expect(switchCommand({ ...base, engine: "vde", hub: true })).toEqual({
      cmd: "vde_switch",
      args: ["-s", "/l/sw/sw0", "-d", "-p", "/l/sw/sw0.pid", "-x"],
    });
  });
});
