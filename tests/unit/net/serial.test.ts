// The serial cable's plan and relay argv.
import { planSerialCable, relayCommand } from "../../../provider/net/serial";

describe("serial cable", () => {
  test("toggling the byte log is in place; the relay crosses a.out->b.in and b.out->a.in", () => {
    const c = { labDir: "/l", name: "hb", log: false };
    expect(planSerialCable(c, { ...c, log: true })).toMatchObject({ changes: true, replaces: [] });
    expect(relayCommand({ ...c, log: true }).args).toEqual([
      "-x",
      "-b",
      "4096",
      "OPEN:/l/ser/hb.a.out,rdwr!!OPEN:/l/ser/hb.a.in,rdwr",
      "OPEN:/l/ser/hb.b.out,rdwr!!OPEN:/l/ser/hb.b.in,rdwr",
    ]);
  });
  test("a new place makes new FIFOs (a replace)", () => {
    const c = { labDir: "/l", name: "hb", log: false };
    expect(planSerialCable(c, { ...c, name: "hc" }).replaces).toEqual(["name"]);
    expect(planSerialCable(c, { ...c }).changes).toBe(false);
  });
});
