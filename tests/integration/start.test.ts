// `npm start` heals, through the scripts a user runs (package.json start = setup.sh + lab.sh
// up): a guest killed behind umlab's back (kill -9 of its UML process group) is booted again
// by the next `npm start`, which refreshes before it updates. Own stack ($UMLAB_STACK), state
// ($PULUMI_BACKEND_URL) and runtime root ($UMLAB_RUNTIME): nothing of the user's dev stack.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO } from "../helpers/stack";
import { labSandbox, LabSandbox } from "../helpers/lab";
import { fileBackendUrl } from "../../cli/toolchain";
import { guestPid, execInGuest } from "../../provider/exec/agent";
import { processAlive, waitFor } from "../../provider/host/process";

describe("npm start heals a lab whose guest was killed", () => {
  let sandbox: LabSandbox | undefined;
  const stack = `h15g-st${process.pid}`;
  let env: NodeJS.ProcessEnv;

  const npm = (args: string[]) => {
    const r = child_process.spawnSync("npm", args, { cwd: REPO, env, encoding: "utf8", timeout: 900_000 });
    return { code: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
  };

  beforeAll(() => {
    sandbox = labSandbox("start", "ust");
    const state = path.join(sandbox.scratch, "state");
    fs.mkdirSync(state);
    env = {
      ...process.env,
      UMLAB_STACK: stack,
      UMLAB_RUNTIME: sandbox.runtime,
      PULUMI_BACKEND_URL: fileBackendUrl(state),
      PULUMI_CONFIG_PASSPHRASE: "umlab-test",
    };
    delete env.PULUMI_HOME; // env.sh's own plugin home, as for a user
  });

  afterAll(() => {
    try {
      npm(["run", "down"]);
      child_process.spawnSync(
        "bash",
        ["scripts/with-env.sh", "pulumi", "stack", "rm", "--yes", "--stack", stack],
        {
          cwd: REPO,
          env,
        },
      );
    } finally {
      fs.rmSync(path.join(REPO, `Pulumi.${stack}.yaml`), { force: true });
      sandbox?.cleanup();
    }
  }, 600_000);

  test("up, kill -9 of g2, npm start again: g2 is back (a new process that answers exec)", async () => {
    const first = npm(["start"]);
    expect(first.out).toMatch(/created/);
    expect(first.code).toBe(0);
    const labDir = fs
      .readdirSync(sandbox!.runtime)
      .map((d) => path.join(sandbox!.runtime, d))
      .find((d) => fs.existsSync(path.join(d, "g", "g2")))!;
    const before = guestPid(labDir, "g2")!;
    const g1 = guestPid(labDir, "g1");
    expect(before).toBeGreaterThan(0);

    process.kill(-before, "SIGKILL");
    expect(await waitFor(() => !processAlive(before), 10_000)).toBe(true);
    expect(guestPid(labDir, "g2")).toBeUndefined();

    const again = npm(["start"]);
    expect(again.code).toBe(0);
    // Not "N unchanged" (the bug): the refresh saw g2 dead and the update booted it.
    expect(again.out.slice(again.out.lastIndexOf("Resources:"))).toMatch(/\d+ (updated|replaced|created)/);
    const after = guestPid(labDir, "g2");
    expect(after).toBeGreaterThan(0);
    expect(after).not.toBe(before);
    const r = await execInGuest(labDir, "g2", ["ping", "-c", "1", "-W", "5", "10.0.0.1"], {
      timeoutMs: 60_000,
    });
    expect(r.stdout).toContain("1 packets received");
    expect(guestPid(labDir, "g1")).toBe(g1); // the others were left running
  }, 1_500_000);
});
