import { planSwitch, switchCommand } from "../../provider/net/switch";
import { planLabRuntime } from "../../provider/lab/runtime";
import { SwitchInputs } from "../../provider/core/schemas";

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

describe("lab runtime plan", () => {
  test("a new root or id is a new runtime directory", () => {
    expect(planLabRuntime({ root: "/a", labId: "x" }, { root: "/a", labId: "x" }).changes).toBe(false);
    expect(planLabRuntime({ root: "/a", labId: "x" }, { root: "/b", labId: "x" }).replaces).toEqual(["root"]);
  });
});
