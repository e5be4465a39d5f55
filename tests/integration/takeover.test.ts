// Another local user cannot take over a lab: whoever makes the runtime root or a lab dir first,
// or plants a symbolic link there, gets a refusal naming the path and its owner, and nothing of
// theirs is touched. The attacker is a real other uid (`nobody`, through setpriv); the victim is
// this process, through the real LabRuntime provider handlers and, once, a real `pulumi up`.
import * as child_process from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { labRuntimeProvider } from "../../provider/lab/runtime";
import * as naming from "../../provider/core/naming";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { findGuest } from "../../cli/labs";

const NOBODY = 65534;
const me = process.getuid!();

/** Run argv as uid/gid 65534 (nobody), no supplementary groups. */
function asNobody(argv: string[]): void {
  child_process.execFileSync(
    "setpriv",
    ["--reuid", `${NOBODY}`, "--regid", `${NOBODY}`, "--clear-groups", "--", ...argv],
    { stdio: "pipe" },
  );
}

/** Every file under `dir` (no following links) with its bytes' hash, mode and owner. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    const rel = path.relative(dir, p) || ".";
    if (st.isSymbolicLink()) out[rel] = `link ${fs.readlinkSync(p)} ${st.uid}`;
    else if (st.isDirectory()) {
      out[rel] = `dir ${st.mode.toString(8)} ${st.uid}`;
      for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
    } else {
      const h = crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");
      out[rel] = `file ${st.mode.toString(8)} ${st.uid} ${h}`;
    }
  };
  walk(dir);
  return out;
}

const labId = naming.labId("takeover", "victim");
const create = (root: string) => labRuntimeProvider.create!({ root, labId });
const del = (root: string) =>
  labRuntimeProvider.delete!(naming.labDir(root, labId), { root, labId, dir: naming.labDir(root, labId) });

describe("another user cannot take over a lab's directories", () => {
  let base: string;
  let shared: string; // a sticky, world-writable parent, like /var/tmp
  let victimRoot: string; // where the victim's root would be (the per-user default's name)

  beforeAll(() => {
    expect(me).not.toBe(NOBODY);
    base = fs.mkdtempSync("/tmp/tko-");
    fs.chmodSync(base, 0o755);
    shared = path.join(base, "shared");
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777);
  });
  afterAll(() => {
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });
  beforeEach(() => {
    victimRoot = path.join(shared, `umlab-${me}`);
    fs.rmSync(victimRoot, { recursive: true, force: true });
  });

  test("the other user made the root first: refused, naming the path and owner; their files unchanged", async () => {
    asNobody(["mkdir", "-m", "0755", victimRoot]);
    asNobody(["mkdir", "-p", path.join(victimRoot, labId, "g", "r1")]);
    asNobody(["sh", "-c", `printf 'evil\\n' > ${path.join(victimRoot, labId, "g", "r1", "startup")}`]);
    const before = snapshot(victimRoot);
    await expect(create(victimRoot)).rejects.toThrow(
      `the runtime root ${victimRoot} is owned by uid ${NOBODY} (nobody), not by you (uid ${me})`,
    );
    expect(snapshot(victimRoot)).toEqual(before);
    // destroy does not remove it either (a state that points there, e.g. from before)
    await expect(del(victimRoot)).rejects.toThrow(`uid ${NOBODY} (nobody)`);
    expect(snapshot(victimRoot)).toEqual(before);
  });

  test("the other user made the lab dir first (in a root that was open then): refused, nothing touched", async () => {
    fs.mkdirSync(victimRoot, { mode: 0o700 });
    fs.chmodSync(victimRoot, 0o1777);
    asNobody(["mkdir", "-p", path.join(victimRoot, labId, "g", "r1")]);
    asNobody(["sh", "-c", `printf 'evil\\n' > ${path.join(victimRoot, labId, "g", "r1", "startup")}`]);
    fs.chmodSync(victimRoot, 0o700); // the root is the victim's own again; the lab dir is not
    const before = snapshot(path.join(victimRoot, labId));
    await expect(create(victimRoot)).rejects.toThrow(
      `the lab directory ${naming.labDir(victimRoot, labId)} is owned by uid ${NOBODY} (nobody)`,
    );
    expect(snapshot(path.join(victimRoot, labId))).toEqual(before);
    await expect(del(victimRoot)).rejects.toThrow("owned by uid 65534 (nobody)");
    expect(snapshot(path.join(victimRoot, labId))).toEqual(before);
  });

  test("a symlink planted at the root: refused, the link's target is not written", async () => {
    const target = path.join(shared, "nobody-target");
    asNobody(["mkdir", "-m", "0777", target]);
    asNobody(["sh", "-c", `printf 'theirs\\n' > ${target}/keep`]);
    asNobody(["ln", "-s", target, victimRoot]);
    const before = snapshot(target);
    await expect(create(victimRoot)).rejects.toThrow(
      `the runtime root ${victimRoot} is a symbolic link (owned by uid ${NOBODY} (nobody))`,
    );
    expect(snapshot(target)).toEqual(before);
    expect(fs.existsSync(path.join(target, labId))).toBe(false);
    expect(fs.readlinkSync(victimRoot)).toBe(target);
    await expect(del(victimRoot)).rejects.toThrow("is a symbolic link");
    expect(snapshot(target)).toEqual(before);
    fs.rmSync(target, { recursive: true, force: true });
  });

  test("a symlink at the lab dir: refused, the target is not written", async () => {
    const target = path.join(shared, "nobody-lab");
    asNobody(["mkdir", "-m", "0777", target]);
    asNobody(["sh", "-c", `printf 'theirs\\n' > ${target}/keep`]);
    fs.mkdirSync(victimRoot, { mode: 0o700 });
    fs.symlinkSync(target, naming.labDir(victimRoot, labId));
    fs.lchownSync(naming.labDir(victimRoot, labId), NOBODY, NOBODY);
    const before = snapshot(target);
    await expect(create(victimRoot)).rejects.toThrow(
      `the lab directory ${naming.labDir(victimRoot, labId)} is a symbolic link (owned by uid ${NOBODY} (nobody))`,
    );
    expect(snapshot(target)).toEqual(before);
    await expect(del(victimRoot)).rejects.toThrow("is a symbolic link");
    expect(snapshot(target)).toEqual(before);
    fs.rmSync(target, { recursive: true, force: true });
  });

  test("the CLI refuses to send a guest requests through another user's lab dir", () => {
    fs.mkdirSync(victimRoot, { mode: 0o700 });
    const dir = naming.labDir(victimRoot, labId);
    fs.mkdirSync(naming.guestPaths(dir, "r1").dir, { recursive: true });
    fs.chownSync(dir, NOBODY, NOBODY);
    const msg = `the lab directory ${dir} is owned by uid ${NOBODY} (nobody)`;
    expect(() => findGuest("r1", undefined, victimRoot)).toThrow(msg);
    expect(() => findGuest("r1", labId, victimRoot)).toThrow(msg);
    fs.chownSync(dir, me, me);
    expect(findGuest("r1", undefined, victimRoot)).toBe(dir);
  });

  test("a group- or other-writable root is refused, even the user's own and sticky", async () => {
    for (const mode of [0o777, 0o1777, 0o770]) {
      fs.rmSync(victimRoot, { recursive: true, force: true });
      fs.mkdirSync(victimRoot);
      fs.chmodSync(victimRoot, mode);
      await expect(create(victimRoot)).rejects.toThrow(
        new RegExp(
          `the runtime root ${victimRoot} is writable by .*mode ${mode.toString(8).padStart(4, "0")}`,
        ),
      );
      expect(fs.readdirSync(victimRoot)).toEqual([]);
    }
  });

  test("the user's own root works: made 0700, the lab dir 0700; delete removes only the lab dir", async () => {
    const { outs } = await create(victimRoot);
    expect(outs.dir).toBe(naming.labDir(victimRoot, labId));
    expect(fs.lstatSync(victimRoot).mode & 0o7777).toBe(0o700);
    expect(fs.lstatSync(outs.dir).mode & 0o7777).toBe(0o700);
    expect(fs.lstatSync(victimRoot).uid).toBe(me);
    // create again (an up after a failed one) is fine
    await create(victimRoot);
    fs.writeFileSync(path.join(victimRoot, "other-lab-file"), "x");
    await del(victimRoot);
    expect(fs.existsSync(outs.dir)).toBe(false);
    expect(fs.readdirSync(victimRoot)).toEqual(["other-lab-file"]);
    // empty now, and still kept: a root is never removed by a lab
    fs.rmSync(path.join(victimRoot, "other-lab-file"));
    await del(victimRoot);
    expect(fs.existsSync(victimRoot)).toBe(true);
  });
});

describe("pulumi up of a lab whose runtime root another user owns", () => {
  let t: TestStack | undefined;
  let base: string;
  const saved = process.env.UMLAB_RUNTIME;
  afterAll(async () => {
    await t?.dispose();
    if (saved === undefined) delete process.env.UMLAB_RUNTIME;
    else process.env.UMLAB_RUNTIME = saved;
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  test("fails with the refusal, creates nothing, and leaves the other user's root as it was", async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), "tko-up-"));
    fs.chmodSync(base, 0o1777);
    const root = path.join(base, "r");
    asNobody(["mkdir", "-m", "0755", root]);
    asNobody(["sh", "-c", `printf 'planted\\n' > ${root}/planted`]);
    const before = snapshot(root);
    process.env.UMLAB_RUNTIME = root;
    t = await testStack(path.join(REPO, "tests/fixtures/automation-lab"), "takeover");
    let message = "";
    await t.stack.up().catch((e: Error) => (message = e.message));
    expect(message).toContain(
      `the runtime root ${root} is owned by uid ${NOBODY} (nobody), not by you (uid ${me})`,
    );
    expect(snapshot(root)).toEqual(before);
    const state = await t.stack.exportStack();
    const made = ((state.deployment.resources ?? []) as { type: string }[]).map((r) => r.type);
    expect(made).not.toContain("pulumi-nodejs:dynamic/umlab:LabRuntime");
    expect(made).not.toContain("pulumi-nodejs:dynamic/umlab:Switch");
  });
});
