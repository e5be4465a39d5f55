// The GitOps pipeline (examples/gitops/pipeline.sh) end to end on real UML, the way a CI runner
// on the lab host drives it: a lab repo (a `umlab new` folder with the pipeline in ci/) pushed to
// a local bare remote; each CI event checks the remote's ref out afresh (git clean included) and
// runs one step. merge applies v1; a change pushed on a branch (g2 readdressed, g3 added) gives
// a PR summary naming the changed field and applies nothing; merged, it is applied; a guest
// killed behind the pipeline's back makes the drift check fail naming it; the next merge run
// brings it back. A run while another holds the host lock gives up saying so.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO } from "../helpers/stack";
import { ensureBuilt, labSandbox, LabSandbox, type GuestInfo as LabGuestInfo } from "../helpers/lab";
import { exec } from "../../sdk/exec";
import { fileBackendUrl } from "../../cli/toolchain";

type GuestInfo = Pick<LabGuestInfo, "name" | "pid" | "guestDir">;

const program = (v: 1 | 2) => `import * as pulumi from "@pulumi/pulumi";
import * as umlab from "umlab";

const lab = new umlab.Lab("lab");
const image = new umlab.Image("busybox", { preset: "busybox" });
const sw = new umlab.Switch("sw0", { lab });
const shape: [string, string][] = ${JSON.stringify(
  v === 1
    ? [
        ["g1", "10.0.0.1/24"],
        ["g2", "10.0.0.2/24"],
      ]
    : [
        ["g1", "10.0.0.1/24"],
        ["g2", "10.0.0.22/24"],
        ["g3", "10.0.0.3/24"],
      ],
)};
const guests = shape.map(([name, address]) => {
  const root = new umlab.CowDisk(\`\${name}-root\`, { lab, backing: image.path, backingVersion: image.sha256 });
  return new umlab.Guest(name, { lab, disks: [root], nics: [{ switch: sw, addresses: [address] }] });
});
export const guestInfo = pulumi
  .all(guests.map((g) => pulumi.all([g.name, g.pid, g.guestDir])))
  .apply((rows) => rows.map(([name, pid, guestDir]) => ({ name, pid, guestDir })));
`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe("GitOps pipeline: PR summary, merge applies, drift fails, next merge repairs", () => {
  let sandbox: LabSandbox | undefined;
  const stack = `h15o-${process.pid}`;
  let remote = "";
  let dev = "";
  let ci = "";
  let runs = 0;

  /** The runner's environment: its own state dir, lock and passphrase; not the repo's backend. */
  function ciEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GITOPS_STACK: stack,
      GITOPS_STATE: path.join(sandbox!.scratch, "state"),
      GITOPS_LOCK: path.join(sandbox!.scratch, "host.lock"),
      PULUMI_CONFIG_PASSPHRASE: "h15o-gitops-secret",
      UMLAB_RUNTIME: sandbox!.runtime,
    };
    delete env.PULUMI_BACKEND_URL;
    delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    return { ...env, ...extra };
  }

  function sh(cmd: string, args: string[], cwd: string, env = ciEnv()): Run {
    const r = child_process.spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 900_000 });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  function git(cwd: string, ...args: string[]): string {
    const r = sh("git", ["-c", "user.name=umlab test", "-c", "user.email=test@umlab.invalid", ...args], cwd);
    if (r.code !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }

  /** What a CI checkout does: fetch, a clean detached tree at the ref; then `npm ci` (here: a link). */
  function checkout(ref: string): void {
    if (!fs.existsSync(ci)) git(sandbox!.scratch, "clone", "--quiet", remote, ci);
    git(ci, "fetch", "--quiet", "origin");
    git(ci, "checkout", "--quiet", "--force", "--detach", `origin/${ref}`);
    git(ci, "clean", "-ffdxq");
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(ci, "node_modules"));
  }

  /** One pipeline step in the checkout; its files (summary.md, drift.md) go in out/. */
  function pipeline(step: string, extra: Record<string, string> = {}): Run & { out: string } {
    const out = path.join(sandbox!.scratch, `out-${++runs}-${step}`);
    const r = sh("bash", ["ci/pipeline.sh", step], ci, ciEnv({ GITOPS_OUT: out, ...extra }));
    return { ...r, out };
  }

  /** The runner's state backend, for the test's own look at the stack (outputs, the final destroy). */
  const stateEnv = () =>
    ciEnv({ PULUMI_BACKEND_URL: fileBackendUrl(path.join(sandbox!.scratch, "state")), UMLAB_STACK: stack });

  function guests(): GuestInfo[] {
    const r = sh(
      "node",
      [
        path.join(REPO, "dist/cli/umlab.js"),
        "pulumi",
        "stack",
        "output",
        "guestInfo",
        "--json",
        "--stack",
        stack,
      ],
      ci,
      stateEnv(),
    );
    if (r.code !== 0) throw new Error(`stack output: ${r.stderr}`);
    return JSON.parse(r.stdout) as GuestInfo[];
  }

  const address = async (g: GuestInfo) =>
    (await exec({ labDir: path.dirname(path.dirname(g.guestDir)), name: g.name }, "ip -4 -o addr show eth0"))
      .stdout;

  beforeAll(() => {
    sandbox = labSandbox("gitops", "ugo");
    ensureBuilt();
    remote = path.join(sandbox.scratch, "lab.git");
    dev = path.join(sandbox.scratch, "dev");
    ci = path.join(sandbox.scratch, "ci");
    git(sandbox.scratch, "init", "--quiet", "--bare", "-b", "main", remote);
    const made = sh(
      "node",
      [path.join(REPO, "dist/cli/umlab.js"), "new", dev, "--name", "gitopslab"],
      sandbox.scratch,
    );
    if (made.code !== 0) throw new Error(made.stderr);
    fs.writeFileSync(path.join(dev, "index.ts"), program(1));
    fs.mkdirSync(path.join(dev, "ci"));
    fs.copyFileSync(path.join(REPO, "examples/gitops/pipeline.sh"), path.join(dev, "ci/pipeline.sh"));
    fs.appendFileSync(path.join(dev, ".gitignore"), ".gitops-out/\n");
    git(dev, "init", "--quiet", "-b", "main");
    git(dev, "add", ".");
    git(dev, "commit", "--quiet", "-m", "lab v1: g1, g2");
    git(dev, "remote", "add", "origin", remote);
    git(dev, "push", "--quiet", "origin", "main");
  }, 300_000);

  afterAll(() => {
    if (fs.existsSync(path.join(ci, "Pulumi.yaml"))) {
      const U = [path.join(REPO, "dist/cli/umlab.js"), "pulumi"];
      const d = sh("node", [...U, "destroy", "--yes", "--non-interactive", "--stack", stack], ci, stateEnv());
      if (d.code !== 0)
        console.error(`gitops test: destroy failed (the sandbox cleanup kills what is left):\n${d.stderr}`);
      sh("node", [...U, "stack", "rm", "--yes", "--force", "--non-interactive", stack], ci, stateEnv());
    }
    sandbox?.cleanup();
  }, 600_000);

  test("pr → merge → drift → repair, through the pipeline script", async () => {
    // merge of v1 applies it.
    checkout("main");
    const v1 = pipeline("merge");
    expect(`${v1.stdout}${v1.stderr}`).toContain("applied and converged");
    expect(v1.code).toBe(0);
    const [g1, g2] = guests();
    expect(await address(g2)).toContain("10.0.0.2/24");

    // A change on a branch: g2 readdressed, g3 added. The PR step summarises it, applies nothing.
    git(dev, "checkout", "--quiet", "-b", "readdress-g2");
    fs.writeFileSync(path.join(dev, "index.ts"), program(2));
    git(dev, "commit", "--quiet", "-am", "g2 to 10.0.0.22, add g3");
    git(dev, "push", "--quiet", "origin", "readdress-g2");
    checkout("readdress-g2");
    const pr = pipeline("pr");
    expect(pr.stderr).toBe("");
    expect(pr.code).toBe(0);
    const summary = fs.readFileSync(path.join(pr.out, "summary.md"), "utf8");
    expect(pr.stdout).toBe(summary);
    expect(summary).toContain("**update in place** Guest `g2`");
    expect(summary).toMatch(
      /`nics\[0\]\.addresses\[0\]`: `"10\.0\.0\.2\/24"` → `"10\.0\.0\.22\/24"` \(in place: /,
    );
    expect(summary).toContain("**create** Guest `g3`");
    expect(summary).not.toContain("`g1`"); // untouched
    expect(await address(g2)).toContain("10.0.0.2/24"); // a PR applies nothing
    expect(guests().map((g) => g.name)).toEqual(["g1", "g2"]);

    // Merged: applied.
    git(dev, "checkout", "--quiet", "main");
    git(dev, "merge", "--quiet", "--no-ff", "-m", "merge readdress-g2", "readdress-g2");
    git(dev, "push", "--quiet", "origin", "main");
    checkout("main");
    const v2 = pipeline("merge");
    expect(v2.code).toBe(0);
    const after = guests();
    expect(after.map((g) => g.name)).toEqual(["g1", "g2", "g3"]);
    expect(after[0].pid).toBe(g1.pid);
    expect(after[1].pid).toBe(g2.pid); // readdressed in place
    expect(await address(after[1])).toContain("10.0.0.22/24");
    expect(await address(after[2])).toContain("10.0.0.3/24");

    // No drift yet: the check passes.
    const clean = pipeline("drift");
    expect(clean.stdout).toContain("No drift");
    expect(clean.code).toBe(0);

    // g2's UML process killed behind the pipeline's back: the drift check fails naming it.
    process.kill(after[1].pid, "SIGKILL");
    const drift = pipeline("drift");
    expect(drift.code).toBe(1);
    expect(drift.stderr).toContain("DRIFT");
    const driftMd = fs.readFileSync(path.join(drift.out, "drift.md"), "utf8");
    expect(driftMd).toContain("Guest `g2`");
    expect(driftMd).toContain("gone from the host");
    expect(driftMd).not.toContain("`g1`");

    // The next merge run repairs it: g2 back (a new process) with its address, answering exec.
    const repair = pipeline("merge");
    expect(repair.code).toBe(0);
    const healed = guests();
    expect(healed.map((g) => g.name)).toEqual(["g1", "g2", "g3"]);
    expect(healed[1].pid).not.toBe(after[1].pid);
    expect(await address(healed[1])).toContain("10.0.0.22/24");
    expect(healed[0].pid).toBe(g1.pid);
    expect(pipeline("drift").code).toBe(0);
  }, 1_800_000);

  test("one Pulumi run per lab host: a step gives up while another holds the host lock", () => {
    const lock = path.join(sandbox!.scratch, "host.lock");
    const r = sh(
      "bash",
      ["-c", 'exec 8>>"$GITOPS_LOCK" && flock 8 && bash ci/pipeline.sh drift'],
      ci,
      ciEnv({ GITOPS_LOCK_WAIT: "2", GITOPS_OUT: path.join(sandbox!.scratch, "out-locked") }),
    );
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`another Pulumi run on this lab host holds ${lock}`);
    expect(fs.existsSync(path.join(sandbox!.scratch, "out-locked", "drift.json"))).toBe(false);
  }, 120_000);

  test("the pipeline refuses to run without a passphrase from the secret store", () => {
    const env = ciEnv();
    delete env.PULUMI_CONFIG_PASSPHRASE;
    const r = sh("bash", ["ci/pipeline.sh", "pr"], ci, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("set PULUMI_CONFIG_PASSPHRASE");
  });
});
