// A guest's `cable:` serial ends are opened by the host and handed to UML as fds: only FIFOs of
// the lab's own SerialCables may be, never a host file named by the path or planted as a link.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { openCableEnds } from "../../../provider/guest/cable-ends";
import * as naming from "../../../provider/core/naming";
import { base } from "./fixtures";

describe("openCableEnds", () => {
  let lab: string;
  let cables: string;
  beforeEach(() => {
    lab = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-cable-"));
    cables = naming.labPaths(lab).cablesDir;
    fs.mkdirSync(cables, { recursive: true });
  });
  afterEach(() => fs.rmSync(lab, { recursive: true, force: true }));
  const guest = (serial: string[]) => ({ ...base, labDir: lab, serial });
  const fifo = (p: string) => require("child_process").execFileSync("mkfifo", [p]);

  test("what waits in the guest's input FIFO (sent while it was down) is dropped; its output is not", () => {
    fifo(`${cables}/c.a.in`);
    fifo(`${cables}/c.a.out`);
    // The relay's side: holds both FIFOs open, with a backlog in each.
    const relayIn = fs.openSync(`${cables}/c.a.in`, fs.constants.O_RDWR);
    const relayOut = fs.openSync(`${cables}/c.a.out`, fs.constants.O_RDWR);
    fs.writeSync(relayIn, "x".repeat(20_000));
    fs.writeSync(relayOut, "sent-before");
    const fds = openCableEnds(guest([`cable:${cables}/c.a`]));
    try {
      const nb = (fd: number) =>
        fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const inRead = nb(fds[0]);
      expect(() => fs.readSync(inRead, Buffer.alloc(100))).toThrow(/EAGAIN/);
      fs.closeSync(inRead);
      // What arrives after the boot is delivered.
      fs.writeSync(relayIn, "after");
      const again = nb(fds[0]);
      const got = Buffer.alloc(100);
      expect(got.toString("utf8", 0, fs.readSync(again, got))).toBe("after");
      fs.closeSync(again);
      const outRead = nb(fds[1]);
      const buf = Buffer.alloc(100);
      expect(buf.toString("utf8", 0, fs.readSync(outRead, buf))).toBe("sent-before");
      fs.closeSync(outRead);
    } finally {
      [...fds, relayIn, relayOut].forEach((fd) => fs.closeSync(fd));
    }
  });

  test("the lab's own FIFOs open read-write, in order", () => {
    fifo(`${cables}/c.a.in`);
    fifo(`${cables}/c.a.out`);
    const fds = openCableEnds(guest(["null", `cable:${cables}/c.a`]));
    expect(fds).toHaveLength(2);
    for (const fd of fds) expect(fs.fstatSync(fd).isFIFO()).toBe(true);
    fds.forEach((fd) => fs.closeSync(fd));
  });

  test("a path outside the lab's cables dir is refused before anything is opened", () => {
    for (const end of ["/etc/shadow", `${lab}/g/x`, `${cables}/../../etc`])
      expect(() => openCableEnds(guest([`cable:${end}`]))).toThrow(/not a SerialCable of this lab/);
  });

  test("a link planted at the FIFO's name (to a host file) is refused, nothing left open", () => {
    const secret = path.join(lab, "host-secret");
    fs.writeFileSync(secret, "x");
    fifo(`${cables}/c.a.in`);
    fs.symlinkSync(secret, `${cables}/c.a.out`);
    const before = fs.readdirSync("/proc/self/fd").length;
    expect(() => openCableEnds(guest([`cable:${cables}/c.a`]))).toThrow(/ELOOP|symbolic/);
    expect(fs.readdirSync("/proc/self/fd").length).toBe(before);
  });

  test("a regular file at the FIFO's name is refused", () => {
    fs.writeFileSync(`${cables}/c.a.in`, "");
    fs.writeFileSync(`${cables}/c.a.out`, "");
    expect(() => openCableEnds(guest([`cable:${cables}/c.a`]))).toThrow(/not a FIFO/);
  });
});
