// umlab console: this terminal on a guest's console (the con0 FIFO and the console log).
import * as fs from "fs";
import { guestPid } from "../provider/exec/agent";
import * as naming from "../provider/core/naming";
import type { CliArgs } from "./args";
import { guestLab } from "./labs";

/**
 * Attach to the guest's console: print what the console writes (the log, from now on) and
 * send what is typed to the FIFO that feeds con0. On a terminal, keys go through raw and
 * Ctrl-] detaches; from a pipe, lines are sent until end of input, then output is shown for
 * one more second.
 */
export async function cmdConsole(a: CliArgs, root: string): Promise<number> {
  const { dir: labDir, stack } = await guestLab(a.guest!, a, root);
  const p = naming.guestPaths(labDir, a.guest!);
  if (!guestPid(labDir, a.guest!)) {
    console.error(
      `umlab: guest "${a.guest}" is not running: run \`pulumi refresh\` and then \`pulumi up\` to boot it again`,
    );
    return 1;
  }
  const input = fs.openSync(p.consoleIn, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  let offset = fs.statSync(p.consoleLog).size;
  const pump = () => {
    let size: number;
    try {
      size = fs.statSync(p.consoleLog).size;
    } catch {
      return;
    }
    if (size <= offset) return;
    const buf = Buffer.alloc(size - offset);
    const fd = fs.openSync(p.consoleLog, "r");
    try {
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      offset += n;
      process.stdout.write(buf.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
  };
  const timer = setInterval(pump, 50);
  const tty = process.stdin.isTTY === true;
  if (tty) {
    process.stderr.write(
      `umlab: attached to ${a.guest}'s console${stack ? ` (stack ${stack})` : ""} (Ctrl-] detaches)\r\n`,
    );
    process.stdin.setRawMode(true);
  }
  const send = (data: Buffer) => {
    for (let tries = 0; ; tries++) {
      try {
        fs.writeSync(input, data);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN" || tries > 100) throw e;
      }
    }
  };
  await new Promise<void>((resolve) => {
    process.stdin.on("data", (d: Buffer) => {
      const stop = tty ? d.indexOf(0x1d) : -1; // Ctrl-]
      if (stop >= 0) {
        if (stop > 0) send(d.subarray(0, stop));
        resolve();
        return;
      }
      send(d);
    });
    process.stdin.on("end", () => setTimeout(resolve, 1000));
  });
  if (tty) {
    process.stdin.setRawMode(false);
    process.stderr.write("\r\numlab: detached\r\n");
  }
  pump();
  clearInterval(timer);
  fs.closeSync(input);
  process.stdin.pause();
  return 0;
}
