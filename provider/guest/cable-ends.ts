// A guest's SerialCable ends (provider/net/serial.ts): the FIFOs behind `cable:` serial lines,
// opened by the host and handed to UML as fds from CABLE_FD_BASE. Only FIFOs of the lab's own
// cables may be, never a host file named by the path or planted as a link; what waits in the
// guest's input FIFO at boot (sent while it was down) is dropped.
import * as fs from "fs";
import * as naming from "../core/naming";
import { dropWaiting } from "../host/files";
import type { GuestInputs } from "../core/schemas";

/** The FIFOs behind the cable ends, in fd order from CABLE_FD_BASE: `<end>.in`, `<end>.out` each. */
export function cableFifos(serial: string[]): string[] {
  return serial
    .filter((s) => s.startsWith("cable:"))
    .flatMap((s) => [`${s.slice("cable:".length)}.in`, `${s.slice("cable:".length)}.out`]);
}

/**
 * Read and drop what waits in a FIFO opened read-write (never blocks): at most a FIFO's worth,
 * what can have waited; the relay refills it as it is read, and what comes after the boot must
 * reach the guest (provider/net/serial.ts drainFifos does the same at a mend).
 */
function drainFifo(fd: number): void {
  const r = fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    dropWaiting(r);
  } finally {
    fs.closeSync(r);
  }
}

/**
 * The fds of the guest's SerialCable ends (cableFifos order). Read-write, so a restarting peer
 * never means EOF. Only the lab's own cable FIFOs: a `cable:` path elsewhere (or a link planted
 * there) would hand the guest whatever host file it names. All or none are left open.
 */
export function openCableEnds(g: GuestInputs): number[] {
  const cables = naming.labPaths(g.labDir).cablesDir;
  const fds: number[] = [];
  try {
    for (const f of cableFifos(g.serial)) {
      if (!f.startsWith(`${cables}/`) || f.includes("/../"))
        throw new Error(
          `guest ${g.name}: serial end ${f} is not a SerialCable of this lab (under ${cables})`,
        );
      const fd = fs.openSync(f, fs.constants.O_RDWR | fs.constants.O_NOFOLLOW);
      fds.push(fd);
      if (!fs.fstatSync(fd).isFIFO())
        throw new Error(`guest ${g.name}: serial end ${f} is not a FIFO made by its SerialCable`);
      // What the peer sent while this guest was down is lost, as on a real line: delivered
      // at boot, a backlog of more than about 4 KiB wedges the guest's serial input.
      if (f.endsWith(".in")) drainFifo(fd);
    }
    return fds;
  } catch (e) {
    for (const fd of fds) fs.closeSync(fd);
    throw e;
  }
}
