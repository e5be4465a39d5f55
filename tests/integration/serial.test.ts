// A serial cable cut and mended on real UML under the real Pulumi engine: bytes cross both
// ways; `suspended: true` previews and applies as an in-place update of the cable alone (same
// relay process, now stopped; the guests are not touched) and nothing crosses, either way;
// a guest writing into the cut cable stays responsive; mended, what was written meanwhile is
// lost and what is written next crosses; a guest rebooted from inside starts with no stale
// bytes from before its reboot; destroy of a cut cable leaves no process or file.
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { labSandbox, LabSandbox, processesMentioning } from "../helpers/lab";
import { buildImage, resolveSpec } from "../../provider/image/provider";
import { processAlive, waitFor, sleep } from "../../provider/host/process";

const workDir = path.join(REPO, "tests/integration/serial-program");

let seq = 0;
/** Run a shell line in a guest through its console FIFO; exit code and output come back through its folder. */
async function inGuest(
  guestDir: string,
  line: string,
  timeoutMs = 60_000,
): Promise<{ rc: number; out: string }> {
  const tag = `s${process.pid}-${seq++}`;
  const rc = path.join(guestDir, "state", `${tag}.rc`);
  fs.appendFileSync(
    path.join(guestDir, "console.in"),
    `(${line}) > /umlab/state/${tag}.out 2>&1; echo $? > /umlab/state/${tag}.rc\n`,
  );
  const done = await waitFor(
    () => fs.existsSync(rc) && fs.readFileSync(rc, "utf8").trim() !== "",
    timeoutMs,
    100,
  );
  if (!done) throw new Error(`guest ${guestDir} did not run: ${line}`);
  return {
    rc: Number(fs.readFileSync(rc, "utf8").trim()),
    out: fs.readFileSync(path.join(guestDir, "state", `${tag}.out`), "utf8"),
  };
}

function received(guestDir: string): string {
  try {
    return fs.readFileSync(path.join(guestDir, "state", "serial.rx"), "utf8");
  } catch {
    return "";
  }
}

/** The process state letter (R, S, T...) of a pid, from /proc. */
function procState(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
}

describe("serial cable cut and mended on real UML", () => {
  let sandbox: LabSandbox | undefined;
  let backing: string;
  let t: TestStack | undefined;

  beforeAll(async () => {
    sandbox = labSandbox("ha-serial", "hsr");
    backing = (
      await buildImage(resolveSpec({ preset: "busybox", cacheDir: path.join(sandbox.scratch, "cache") }))
    ).path;
  }, 300_000);

  afterAll(async () => {
    if (t) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 300_000);

  test("bytes cross; cut: they do not, the guests live on; mended: they cross again; destroy while cut", async () => {
    t = await testStack(workDir, "ha-serial", { backing });
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    const o = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
    const [d1, d2] = o.guestDirs as string[];
    const guestPids = o.guestPids as number[];
    const relay = o.cable.pid as number;
    for (const d of [d1, d2]) {
      expect(
        await inGuest(d, "stty -F /dev/ttyS1 raw -echo && (cat /dev/ttyS1 > /umlab/state/serial.rx &)"),
      ).toEqual({
        rc: 0,
        out: "",
      });
    }
    const arrives = (d: string, text: string, ms = 20_000) => waitFor(() => received(d).includes(text), ms);

    // --- connected: both ways -----------------------------------------------------------
    await inGuest(d1, "echo before-cut-1to2 > /dev/ttyS1");
    await inGuest(d2, "echo before-cut-2to1 > /dev/ttyS1");
    expect(await arrives(d2, "before-cut-1to2")).toBe(true);
    expect(await arrives(d1, "before-cut-2to1")).toBe(true);

    // --- cut: an in-place update of the cable alone, the same relay stopped ---------------
    await t.stack.setConfig("cut", { value: "true" });
    const pre = await t.stack.preview({ diff: true });
    expect(pre.changeSummary).toEqual({ same: expect.any(Number), update: 1 });
    expect(pre.stdout).toMatch(/~ pulumi-nodejs:dynamic\/umlab:SerialCable: \(update\)/);
    expect(pre.stdout).not.toMatch(/replace/);
    const cutUp = await t.stack.up();
    expect(cutUp.summary.resourceChanges).toEqual({ same: expect.any(Number), update: 1 });
    expect(cutUp.outputs.cable.value.pid).toBe(relay);
    expect(procState(relay)).toBe("T");
    expect(cutUp.outputs.guestPids.value).toEqual(guestPids);

    await inGuest(d1, "echo during-cut-1to2 > /dev/ttyS1");
    await inGuest(d2, "echo during-cut-2to1 > /dev/ttyS1");
    await sleep(5000);
    expect(received(d2)).not.toContain("during-cut-1to2");
    expect(received(d1)).not.toContain("during-cut-2to1");
    expect((await inGuest(d1, "echo alive")).out).toBe("alive\n");

    // --- mended: an update again; what was queued is dropped, what comes next crosses ----
    await t.stack.setConfig("cut", { value: "false" });
    const mend = await t.stack.up();
    expect(mend.summary.resourceChanges).toEqual({ same: expect.any(Number), update: 1 });
    expect(mend.outputs.cable.value.pid).toBe(relay);
    expect(procState(relay)).not.toBe("T");
    await inGuest(d1, "echo after-mend-1to2 > /dev/ttyS1");
    await inGuest(d2, "echo after-mend-2to1 > /dev/ttyS1");
    expect(await arrives(d2, "after-mend-1to2")).toBe(true);
    expect(await arrives(d1, "after-mend-2to1")).toBe(true);
    // What was sent down the cut cable is lost, as on a real one.
    expect(received(d2)).not.toContain("during-cut-1to2");
    expect(received(d1)).not.toContain("during-cut-2to1");

    // --- cut again and flooded: more than a pipe holds (64 KiB) into the dead line -------
    // The writer blocks in the guest; the guest itself must stay responsive.
    await t.stack.setConfig("cut", { value: "true" });
    await t.stack.up();
    await inGuest(
      d1,
      "(dd if=/dev/zero bs=1k count=100 2>/dev/null | tr '\\0' x > /dev/ttyS1; echo flood-end > /dev/ttyS1) &",
    );
    await sleep(5000);
    expect(received(d2)).not.toContain("xxxx");
    expect((await inGuest(d1, "echo alive")).out).toBe("alive\n");
    await t.stack.setConfig("cut", { value: "false" });
    await t.stack.up();
    const flooded = await waitFor(() => received(d2).includes("flood-end"), 180_000);
    const xs = (received(d2).match(/x/g) ?? []).length;
    // What the FIFO held at the mend (up to 64 KiB) was dropped; the rest, blocked in the guest, crossed.
    expect(xs).toBeLessThan(102400);
    console.log(
      `serial cable flood: ${xs} of 102400 bytes written while cut had crossed; flood-end ${flooded ? "arrived" : "did not arrive"}`,
    );
    expect(flooded).toBe(true);

    // --- an in-guest reboot: what the peer sent meanwhile is dropped at the boot ----------
    // g2's reader stops (as at a reboot, nothing reads its ttyS1), g1 writes 100 KiB into the
    // cable (it waits in the FIFOs and the relay: g2's line stopped reading at the flood above,
    // UML's throttle bug), then g2 reboots from inside (`reboot -f`: the same UML process, the
    // cable fds stay open). Back up, g2's first reader gets what g1 writes next, with no stale
    // byte ahead of it, and the line keeps working (no stale burst wedged it again).
    await inGuest(d2, "kill $(pidof cat); sleep 1; pidof cat || echo no-reader");
    const flood = await inGuest(
      d1,
      "dd if=/dev/zero bs=1k count=100 2>/dev/null | tr '\\0' y > /dev/ttyS1; echo flood-written",
      180_000,
    );
    expect(flood.out).toContain("flood-written");
    const initLog = path.join(d2, "state", "init.log");
    const marker = `before-reboot-${process.pid}`;
    fs.appendFileSync(initLog, `${marker}\n`);
    fs.appendFileSync(path.join(d2, "console.in"), "reboot -f\n");
    const rebooted = await waitFor(() => {
      const l = fs.existsSync(initLog) ? fs.readFileSync(initLog, "utf8") : marker;
      return !l.includes(marker) && /ready after/.test(l);
    }, 300_000);
    expect(rebooted).toBe(true);
    expect(processAlive(guestPids[1])).toBe(true); // the same UML process
    expect(fs.readFileSync(initLog, "utf8")).toContain("cable ttyS1: what waited was dropped; raw, no echo");
    const after = () => {
      try {
        return fs.readFileSync(path.join(d2, "state", "serial-after.rx"), "utf8");
      } catch {
        return "";
      }
    };
    expect(
      await inGuest(
        d2,
        "(cat /dev/ttyS1 > /umlab/state/serial-after.rx &); stty -F /dev/ttyS1 -a 2>/dev/null | tr ' ' '\\n' | grep -x -- -echo",
      ),
    ).toEqual({ rc: 0, out: "-echo\n" });
    await sleep(1000);
    expect(after()).toBe(""); // nothing stale came in at the reader's open either
    await inGuest(d1, "echo after-reboot-1to2 > /dev/ttyS1");
    expect(await waitFor(() => after().includes("after-reboot-1to2"), 30_000)).toBe(true);
    expect(after()).toBe("after-reboot-1to2\n");
    await inGuest(d1, "echo again-1to2 > /dev/ttyS1");
    expect(await waitFor(() => after().includes("again-1to2"), 30_000)).toBe(true);
    expect(after()).toBe("after-reboot-1to2\nagain-1to2\n");
    // No echo at g2's boot: g1 got none of its own bytes back.
    expect(received(d1)).not.toContain("y");

    // --- destroy while cut: the stopped relay is ended too ------------------------------
    await t.stack.setConfig("cut", { value: "true" });
    await t.stack.up();
    expect(procState(relay)).toBe("T");
    const d = await t.stack.destroy();
    expect(d.summary.result).toBe("succeeded");
    for (const pid of [relay, ...guestPids]) expect(processAlive(pid)).toBe(false);
    expect(processesMentioning(o.labDir)).toEqual([]);
    expect(fs.existsSync(o.labDir)).toBe(false);
  }, 900_000);
});
