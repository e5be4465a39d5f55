// The exec agent on real UML under the real Pulumi engine: commands run in a running guest
// through the agent's own line (not the login console) and give back stdout, stderr and the
// exit code; a thousand in a row lose or mix nothing; concurrent ones keep their outputs
// apart; a timeout kills the command in the guest; the Exec resource re-runs on new
// triggers; a NIC's link goes down and up in place; netem on busybox fails saying why; the
// CLI passes exit codes through and attaches to the console; a missing or dead guest gives
// an error that says what to do.
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import {
  ensureBuilt,
  labSandbox,
  LabSandbox,
  processesMentioning,
  type GuestInfo as LabGuestInfo,
  runUmlab,
} from "../helpers/lab";
import { buildImage, resolveSpec } from "../../provider/image/provider";
import { processAlive, waitFor } from "../../provider/host/process";
import { exec, ExecError } from "../../sdk/exec";

const workDir = path.join(REPO, "tests/integration/exec-program");

type GuestInfo = Pick<LabGuestInfo, "name" | "pid" | "guestDir" | "bootId" | "mconsole">;

const cli = (args: string[], input?: string, env: Record<string, string> = {}) =>
  runUmlab(args, { input, env, timeoutMs: 60_000 });

describe("exec agent: commands in running guests", () => {
  let sandbox: LabSandbox | undefined;
  let scratch: string;
  let t: TestStack;
  let labDir: string;
  let g1: GuestInfo;
  let g2: GuestInfo;

  beforeAll(async () => {
    sandbox = labSandbox("exec", "uex");
    ({ scratch } = sandbox);
    ensureBuilt();
    const image = await buildImage(resolveSpec({ preset: "busybox", cacheDir: path.join(scratch, "cache") }));
    t = await testStack(workDir, "exec", { backing: image.path });
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    labDir = up.outputs.labDir.value;
    [g1, g2] = up.outputs.guestInfo.value as GuestInfo[];
  }, 300_000);

  afterAll(async () => {
    if (t) await t.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 300_000);

  test("a command's stdout, stderr and exit code come back; argv words pass as is; stdin is given", async () => {
    const r = await exec({ labDir, name: "g1" }, "echo out; echo err >&2; exit 3");
    expect(r).toMatchObject({ stdout: "out\n", stderr: "err\n", exitCode: 3 });

    // Quotes, spaces, $ and ; in argv words are data, never shell syntax.
    const words = ["it's", "a b", "$HOME", "; false", "*"];
    const argv = await exec(g1, ["printf", "%s\\n", ...words]);
    expect(argv.stdout).toBe(words.map((w) => `${w}\n`).join(""));
    expect(argv.exitCode).toBe(0);

    const stdin = await exec(g1, ["wc", "-l"], { stdin: "a\nb\nc\n" });
    expect(stdin.stdout.trim()).toBe("3");
    // It ran in the guest, not on the host.
    expect((await exec(g1, ["hostname"])).stdout.trim()).toBe("g1");
    // Nothing was typed on the login console.
    expect(fs.readFileSync(path.join(g1.guestDir, "console.log"), "utf8")).not.toContain("printf");
  });

  test("a thousand commands in a row: every output comes back whole and to the right caller", async () => {
    const t0 = Date.now();
    const wrong: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const r = await exec(g1, ["echo", `line-${i}`]);
      if (r.stdout !== `line-${i}\n` || r.stderr !== "" || r.exitCode !== 0)
        wrong.push(`${i}: ${JSON.stringify(r)}`);
    }
    console.log(`1000 sequential exec round trips: ${Date.now() - t0} ms`);
    expect(wrong).toEqual([]);
    // No request folder is left behind.
    expect(fs.readdirSync(path.join(g1.guestDir, "exec"))).toEqual([]);
  }, 600_000);

  test("concurrent commands keep their outputs apart", async () => {
    const rs = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        exec(i % 2 ? g1 : g2, `sleep 0.$((${i} % 4)); echo start-${i}; seq 1 200 | tail -1; echo end-${i}`),
      ),
    );
    rs.forEach((r, i) => expect(r.stdout).toBe(`start-${i}\n200\nend-${i}\n`));
  });

  test("a command that outlives its timeout is reported as timed out and killed in the guest", async () => {
    const t0 = Date.now();
    const err = await exec(g1, "echo started; sleep 317 & sleep 318", { timeoutMs: 800 }).catch((e) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect(err.reason).toBe("timeout");
    expect(err.message).toMatch(/guest "g1": .*sleep 318.* timed out after 800 ms \(killed in the guest\)/);
    expect(err.stdout).toBe("started\n");
    expect(Date.now() - t0).toBeLessThan(10_000);
    // Its whole process group went, the background sleep too.
    const ps = await exec(g1, "ps | grep -c 'sleep 31[78]' || true");
    expect(ps.stdout.trim()).toBe("0");
  });

  test("a guest that turns its own result files into a FIFO or a symlink to a host file neither hangs the host nor leaks the file", async () => {
    const secret = path.join(scratch, "host-secret");
    fs.writeFileSync(secret, "HOST SECRET 7f3a\n");
    const hostDir = path.join(scratch, "host-dir");
    fs.mkdirSync(hostDir, { recursive: true });
    fs.writeFileSync(path.join(hostDir, "out"), "HOST SECRET 7f3a\n");
    fs.writeFileSync(path.join(hostDir, "err"), "");
    fs.writeFileSync(path.join(hostDir, "rc"), "0\n");
    // The command finds its own request folder (/umlab/exec/<id>) by a marker in its cmd file.
    const inOwnDir = (marker: string, body: string) =>
      `d=$(grep -l ${marker} /umlab/exec/*/cmd | head -n 1); d=\${d%/cmd}; cd "$d" || exit 9\n${body}`;
    const attempt = async (script: string, timeoutMs = 20_000) =>
      exec(g1, script, { timeoutMs }).then(
        (r) => ({ ok: true as const, r }),
        (e: unknown) => ({ ok: false as const, e: e as ExecError }),
      );

    // out replaced by a FIFO: refused, not blocked on.
    const fifo = await attempt(inOwnDir("m1fifo", "rm -f out && mkfifo out && ls -l out >&2; exit 0"));
    expect(fifo.ok).toBe(false);
    if (!fifo.ok)
      expect([fifo.e.reason, fifo.e.message]).toEqual([
        "unsafe-output",
        expect.stringMatching(/out: it is a FIFO/),
      ]);

    // out replaced by a symlink to a host file (hostfs creates the link on the host as is).
    const link = await attempt(inOwnDir("m2link", `rm -f out && ln -s ${secret} out; exit 0`));
    expect(link.ok).toBe(false);
    if (!link.ok) {
      expect(link.e.reason).toBe("unsafe-output");
      expect(`${link.e.message}${link.e.stdout}${link.e.stderr}`).not.toContain("HOST SECRET");
    }

    // The whole request folder replaced by a symlink to a host folder holding out and rc.
    const dirLink = await attempt(
      inOwnDir("m3dir", `cd / && mv "$d" "$d.x" && ln -s ${hostDir} "$d"; exit 0`),
    );
    expect(dirLink).toMatchObject({ ok: false });
    if (!dirLink.ok) {
      expect(dirLink.e.reason).toBe("unsafe-output");
      expect(dirLink.e.message).toMatch(/outside/);
      expect(`${dirLink.e.message}${dirLink.e.stdout}`).not.toContain("HOST SECRET");
    }

    // rc replaced by a FIFO: the host stops waiting at once and kills the command.
    const t0 = Date.now();
    const rcFifo = await attempt(inOwnDir("m4rc", "rm -f rc && mkfifo rc; sleep 30"), 3000);
    expect(rcFifo.ok).toBe(false);
    if (!rcFifo.ok) expect(rcFifo.e.reason).toBe("unsafe-output");
    // Bounded: at most the timeout plus the kill wait (6 s), not the 30 s sleep or for ever.
    expect(Date.now() - t0).toBeLessThan(25_000);

    // The host files are untouched and the guest still works.
    expect(fs.readFileSync(secret, "utf8")).toBe("HOST SECRET 7f3a\n");
    expect((await exec(g1, ["echo", "still fine"])).stdout).toBe("still fine\n");
  }, 120_000);

  test("the Exec resource runs on create and again when its triggers change", async () => {
    const first = await t.stack.outputs();
    expect(first.stampOut.value).toEqual({ stdout: "run-1\n", stderr: "to-stderr\n", exitCode: 0 });
    await t.stack.setConfig("trigger", { value: "2" });
    const preview = await t.stack.preview({ diff: true });
    expect(preview.changeSummary).toEqual({ same: expect.any(Number), replace: 1 });
    expect(preview.stdout).toMatch(/umlab:Exec: \(replace\)/);
    const up = await t.stack.up();
    expect(up.outputs.stampOut.value.stdout).toBe("run-1\nrun-2\n");
  });

  test("a NIC's link goes down in place, stays down across a reboot, and comes back up in place", async () => {
    const ping = async () => (await exec(g1, ["ping", "-c", "1", "-W", "1", "10.0.0.2"])).exitCode;
    expect(await waitFor(async () => (await ping()) === 0, 20_000, 200)).toBe(true);

    await t.stack.setConfig("linkDown", { value: "true" });
    const preview = await t.stack.preview({ diff: true });
    expect(preview.changeSummary).toEqual({ same: expect.any(Number), update: 1 });
    expect(preview.stdout).not.toMatch(/replace/);
    await t.stack.up();
    expect((await exec(g2, ["cat", "/sys/class/net/eth0/operstate"])).stdout.trim()).toBe("down");
    expect(await ping()).not.toBe(0);
    // A reboot keeps it down: kill -9, refresh, up boots g2 again with the link down.
    expect(fs.readFileSync(path.join(g2.guestDir, "config"), "utf8")).toContain("down eth0\n");
    process.kill(-g2.pid, "SIGKILL");
    await waitFor(() => !processAlive(g2.pid), 10_000);
    await t.stack.refresh();
    const rebooted = await t.stack.up();
    const g2New = (rebooted.outputs.guestInfo.value as GuestInfo[])[1];
    expect(g2New.bootId).not.toBe(g2.bootId);
    g2 = g2New;
    expect((await exec(g2, ["cat", "/sys/class/net/eth0/operstate"])).stdout.trim()).toBe("down");
    expect(await ping()).not.toBe(0);

    await t.stack.setConfig("linkDown", { value: "false" });
    await t.stack.up();
    expect(await waitFor(async () => (await ping()) === 0, 20_000, 200)).toBe(true);
    const after = (await t.stack.outputs()).guestInfo.value as GuestInfo[];
    expect(after[1].bootId).toBe(g2.bootId);
    expect(after[1].pid).toBe(g2.pid);
  }, 300_000);

  test("netem on a busybox guest fails the update with what to use instead; the guest is untouched", async () => {
    await t.stack.setConfig("netemLoss", { value: "10" });
    const failed = await t.stack.up().catch((e) => e);
    await t.stack.removeConfig("netemLoss");
    expect(String(failed)).toContain(
      "netem needs iproute2's tc in the guest image (Image preset debian); on a busybox image use an Impairment on a vde switch",
    );
    expect((await exec(g2, ["cat", "/proc/sys/kernel/random/boot_id"])).stdout.trim()).toBe(g2.bootId);
    expect(fs.readFileSync(path.join(g2.guestDir, "config"), "utf8")).not.toContain("netem");
    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
  });

  test("umlab exec passes output and the exit code through; umlab console runs typed lines", () => {
    const r = cli(["exec", "g1", "--", "sh", "-c", "echo from-cli; echo oops >&2; exit 7"]);
    expect(r.status).toBe(7);
    expect(r.stdout).toBe("from-cli\n");
    expect(r.stderr).toBe("oops\n");

    const slow = cli(["exec", "--timeout", "1", "g1", "--", "sleep", "30"]);
    expect(slow.status).toBe(124);
    expect(slow.stderr).toMatch(/timed out after 1000 ms/);

    const lab = cli(["exec", "--lab", path.basename(labDir), "g2", "--", "hostname"]);
    expect(lab.stdout).toBe("g2\n");

    const missing = cli(["exec", "g7", "--", "true"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no guest "g7" in any lab.*guests: g1 \(.*\), g2/);

    const ls = cli(["ls"]);
    expect(ls.stdout).toMatch(/g1\s+running \(pid \d+\)/);

    // A scripted console session: the line reaches the console shell, its output comes back.
    const con = cli(["console", "g2"], "echo console-$((6*7))\n");
    expect(con.status).toBe(0);
    expect(con.stdout).toContain("console-42");
  });

  test("exec on a missing guest or a guest that is down names the guest and says what to do", async () => {
    const missing = await exec({ labDir, name: "nope" }, ["true"]).catch((e) => e);
    expect(missing).toBeInstanceOf(ExecError);
    expect(missing.reason).toBe("missing");
    expect(missing.message).toMatch(/guest "nope" does not exist in lab .*; the lab's guests are: g1, g2/);

    process.kill(-g2.pid, "SIGKILL");
    await waitFor(() => !processAlive(g2.pid), 10_000);
    const down = await exec(g2, ["true"]).catch((e) => e);
    expect(down).toBeInstanceOf(ExecError);
    expect(down.reason).toBe("down");
    expect(down.message).toMatch(/guest "g2" is not running .*pulumi refresh.*pulumi up/);
    // The whole group was signalled; its helper processes may take a moment to be reaped.
    const g2Procs = () => processesMentioning(`umid=g2 `).filter((p) => p.cmd.includes(labDir));
    await waitFor(() => g2Procs().length === 0, 10_000);
    expect(g2Procs()).toEqual([]);
  });
});
