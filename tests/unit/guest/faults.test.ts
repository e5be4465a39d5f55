// The guest's side of the network and fault pieces (pause, serial cable fds). The Switch,
// Tap, Capture, SerialCable and Impairment plans are in tests/unit/net/.
import { planGuest } from "../../../provider/guest/plan";
import { guestArgs, serialTransports, cableFifos } from "../../../provider/guest/boot";
import { GuestInputs } from "../../../provider/core/schemas";
import { base } from "./fixtures";

describe("faults as state", () => {
  test("pausing a guest is an in-place change", () => {
    const g: GuestInputs = { ...base, nics: [] };
    const p = planGuest(g, { ...g, paused: true });
    expect(p.changes).toEqual(["paused"]);
    expect(p.replaces).toEqual([]);
  });
});

describe("serial cable", () => {
  test("cable ends become inherited fds from 4, in order", () => {
    const serial = ["null", "cable:/l/ser/c.a", "pts", "cable:/l/ser/d.b"];
    expect(serialTransports(serial)).toEqual(["null", "fd:4,fd:5", "pts", "fd:6,fd:7"]);
    expect(cableFifos(serial)).toEqual([
      "/l/ser/c.a.in",
      "/l/ser/c.a.out",
      "/l/ser/d.b.in",
      "/l/ser/d.b.out",
    ]);
  });
  test("the guest command line names the fds, not the cable", () => {
    const args = guestArgs({ ...base, nics: [], serial: ["null", "cable:/l/ser/c.a"] }, "/l");
    expect(args).toContain("ssl1=fd:4,fd:5");
  });
});
