// The serial cable's plan and relay argv.
import { planSerialCable, relayCommand } from "../../../provider/net/serial";
import { serialCableSchema } from "../../../provider/core/schemas";

describe("serial cable", () => {
  test("toggling the byte log is in place; the relay crosses a.out->b.in and b.out->a.in", () => {
    const c = { labDir: "/l", name: "hb", log: false, suspended: false };
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
    const c = { labDir: "/l", name: "hb", log: false, suspended: false };
    expect(planSerialCable(c, { ...c, name: "hc" }).replaces).toEqual(["name"]);
    expect(planSerialCable(c, { ...c }).changes).toBe(false);
  });
  test("cutting and mending the cable is an in-place update of the relay, never new FIFOs", () => {
    const c = { labDir: "/l", name: "hb", log: false, suspended: false };
    expect(planSerialCable(c, { ...c, suspended: true })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
    expect(planSerialCable({ ...c, suspended: true }, c)).toMatchObject({ changes: true, replaces: [] });
    // Cut and renamed at once: the rename still replaces (new FIFOs), whatever else changes.
    expect(planSerialCable(c, { ...c, suspended: true, name: "hc" }).replaces).toEqual(["name"]);
    // The relay's argv does not depend on `suspended`: a stopped relay is the same process.
    expect(relayCommand({ ...c, suspended: true })).toEqual(relayCommand(c));
  });
  test("the schema defaults `suspended` to false and refuses a non-boolean, naming the field", () => {
    expect(serialCableSchema().parse({ labDir: "/l", name: "hb" })).toEqual({
      labDir: "/l",
      name: "hb",
      log: false,
      suspended: false,
    });
    const r = serialCableSchema().safeParse({ labDir: "/l", name: "hb", suspended: "yes" });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0].path).toEqual(["suspended"]);
  });
});
