// umlab as a package, the way a user adds it to a lab in their own folder (issue 9): a lab
// folder made by `umlab new` outside the repository, umlab installed from `npm pack` of this
// checkout (CI's is a fresh clone) and, second, from the checkout's path (a linked install).
// The program has a Tap and a SerialCable (whose ends are unknown in a new stack's preview)
// and the template's ES2022 tsconfig. For each: `pulumi preview` succeeds and lists every
// resource, `pulumi up`, a ping through `umlab exec` (which finds the lab from the stack's
// state), `pulumi destroy`: nothing left.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO } from "../helpers/stack";
import { labSandbox, LabSandbox, processesMentioning } from "../helpers/lab";

// The quickstart with a vde switch, a Tap in the lab's namespace and a serial cable g1 <-> g2.
const PROGRAM = `import * as umlab from "umlab";

const lab = new umlab.Lab("lab");
const image = new umlab.Image("busybox", { preset: "busybox" });
const sw = new umlab.Switch("sw0", { lab, engine: "vde" });
const tap = new umlab.Tap("tap0", { lab, switch: sw, addresses: ["10.0.0.254/24"] });
const cable = new umlab.SerialCable("hb", { lab });
const guests = [1, 2].map((i) => {
  const root = new umlab.CowDisk(\`g\${i}-root\`, { lab, backing: image.path, backingVersion: image.sha256 });
  return new umlab.Guest(\`g\${i}\`, {
    lab,
    disks: [root],
    nics: [{ switch: sw, addresses: [\`10.0.0.\${i}/24\`] }],
    serial: ["null", i === 1 ? cable.endA : cable.endB],
  });
});
export const labDir = lab.dir;
export const tapDevice = tap.device;
export const pids = guests.map((g) => g.pid);
`;
// Lab, LabRuntime, Image, Switch, Tap, SerialCable, 2 CowDisks, 2 Guests + the stack.
const RESOURCES = 11;

interface Run {
  code: number;
  out: string;
}

describe("umlab as a package in a lab folder of its own", () => {
  let sandbox: LabSandbox | undefined;
  let tarball = "";
  const stack = `pk${process.pid}`;

  beforeAll(() => {
    sandbox = labSandbox("pkg", "upk");
    const packed = child_process.execFileSync(
      "npm",
      ["pack", "--pack-destination", sandbox.scratch, "--loglevel=error"],
      { cwd: REPO, encoding: "utf8" },
    );
    tarball = path.join(sandbox.scratch, packed.trim().split("\n").pop() as string);
  }, 300_000);

  afterAll(() => sandbox?.cleanup());

  /** A command in the lab folder with a user's environment: no repo backend, our runtime root. */
  function inLab(dir: string, cmd: string, args: string[]): Run {
    const env: NodeJS.ProcessEnv = { ...process.env, UMLAB_STACK: stack, UMLAB_RUNTIME: sandbox!.runtime };
    delete env.PULUMI_BACKEND_URL; // the lab keeps its own state in .pulumi-state
    const r = child_process.spawnSync(cmd, args, { cwd: dir, env, encoding: "utf8", timeout: 600_000 });
    return { code: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
  }

  async function labLifecycle(kind: string, umlabSpec: string): Promise<void> {
    const dir = path.join(sandbox!.scratch, `lab-${kind}`);
    const made = inLab(sandbox!.scratch, "node", [
      path.join(REPO, "dist/cli/umlab.js"),
      "new",
      dir,
      "--umlab",
      umlabSpec,
    ]);
    expect(made.out).toContain("npm install");
    expect(made.code).toBe(0);
    fs.writeFileSync(path.join(dir, "index.ts"), PROGRAM);
    const install = inLab(dir, "npm", [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
    ]);
    expect(install.out).not.toMatch(/ERR!/);
    expect(install.code).toBe(0);
    // umlab's patch of @pulumi/pulumi was applied in the lab folder too: requiring the SDK
    // leaves typescript and arborist unloaded (about 0.6 s of every Pulumi run).
    const heavy = inLab(dir, "node", [
      "-e",
      'require("@pulumi/pulumi"); console.log(Object.keys(require.cache).filter((f) => /node_modules\\/(typescript|@npmcli\\/arborist)\\//.test(f)).length)',
    ]);
    expect(heavy.out.trim().split("\n").pop()).toBe("0");
    const umlab = path.join(dir, "node_modules/.bin/umlab");

    const preview = inLab(dir, umlab, ["pulumi", "preview", "--non-interactive"]);
    expect(preview.out).toContain(`+ ${RESOURCES} to create`);
    expect(preview.code).toBe(0);

    const up = inLab(dir, umlab, ["pulumi", "up", "--yes", "--non-interactive"]);
    expect(up.out).toContain(`+ ${RESOURCES} created`);
    expect(up.code).toBe(0);

    const ping = inLab(dir, umlab, ["exec", "g1", "--", "ping", "-c", "1", "-W", "5", "10.0.0.2"]);
    expect(ping.out).toContain("1 packets received");
    expect(ping.code).toBe(0);
    const ls = inLab(dir, umlab, ["ls"]);
    expect(ls.out).toContain(`(stack ${stack})`);

    const down = inLab(dir, umlab, ["pulumi", "destroy", "--yes", "--non-interactive"]);
    expect(down.code).toBe(0);
    expect(inLab(dir, umlab, ["pulumi", "stack", "rm", "--yes", "--non-interactive"]).code).toBe(0);
    expect(processesMentioning(sandbox!.runtime)).toEqual([]);
    const left = fs.existsSync(sandbox!.runtime) ? fs.readdirSync(sandbox!.runtime) : [];
    expect(left.filter((f) => f.includes(stack))).toEqual([]);
  }

  test("installed from npm pack: umlab new, npm install, preview, up, exec, destroy", async () => {
    await labLifecycle("tgz", tarball);
  }, 900_000);

  test("installed from the checkout's path (linked): the same", async () => {
    await labLifecycle("path", `file:${REPO}`);
  }, 900_000);
});
