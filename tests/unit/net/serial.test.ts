// The serial cable's plan and relay argv.
import * as child_process from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planSerialCable, relayCommand, drainFifos, FIFO_BYTES } from "../../../provider/net/serial";
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
  test("mending with a guest still writing drops one FIFO's worth; what it writes next is kept", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-drain-"));
    try {
      const fifo = path.join(dir, "hb.a.out");
      child_process.execFileSync("mkfifo", ["-m", "0600", fifo]);
      const held = fs.openSync(fifo, "r+"); // the guest's own read-write hold: never EOF
      // The guest: 200 KiB into the cut cable, blocked once the FIFO is full.
      const writer = child_process.spawn("dd", ["if=/dev/zero", `of=${fifo}`, "bs=1024", "count=200"], {
        stdio: "ignore",
      });
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        // Full when one more non-blocking write would block.
        await new Promise((r) => setTimeout(r, 100));
        const probe = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
        let full = false;
        try {
          fs.writeSync(probe, Buffer.alloc(1));
          fs.readSync(held, Buffer.alloc(1)); // take the probe byte back out
        } catch (e) {
          full = (e as NodeJS.ErrnoException).code === "EAGAIN";
        } finally {
          fs.closeSync(probe);
        }
        if (full) break;
      }
      const dropped = drainFifos([fifo]);
      expect(dropped).toBe(FIFO_BYTES);
      // The relay resumes: everything the guest writes after the mend crosses.
      let rest = 0;
      const buf = Buffer.alloc(65536);
      const done = new Promise((r) => writer.on("exit", r));
      while (rest < 200 * 1024 - FIFO_BYTES) rest += fs.readSync(held, buf, 0, buf.length, null);
      await done;
      expect(rest).toBe(200 * 1024 - FIFO_BYTES);
      fs.closeSync(held);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("mending drops what waits in the .out FIFOs, never blocks, never reads through a symlink", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-drain-"));
    try {
      const fifo = path.join(dir, "hb.a.out");
      child_process.execFileSync("mkfifo", ["-m", "0600", fifo]);
      const guest = fs.openSync(fifo, "r+"); // a guest holds its end read-write
      fs.writeSync(guest, Buffer.alloc(10_000, 0x41));
      expect(drainFifos([fifo, path.join(dir, "missing")])).toBe(10_000);
      expect(drainFifos([fifo])).toBe(0); // empty: EAGAIN, not a hang
      fs.writeSync(guest, "late");
      expect(drainFifos([fifo])).toBe(4);
      // A guest still writing refills the FIFO as it is drained: at most a FIFO's worth goes.
      fs.writeSync(guest, Buffer.alloc(FIFO_BYTES, 0x42));
      expect(drainFifos([fifo], 1000)).toBe(1000);
      expect(drainFifos([fifo])).toBe(FIFO_BYTES - 1000);
      fs.closeSync(guest);
      const secret = path.join(dir, "secret");
      fs.writeFileSync(secret, "do not read");
      const planted = path.join(dir, "hb.b.out");
      fs.symlinkSync(secret, planted);
      expect(() => drainFifos([planted])).toThrow(/ELOOP/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
