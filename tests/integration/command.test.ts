// @pulumi/command's local.Command and remote.Command run under `pulumi up` with no internet:
// the `command` plugin comes from the project's own toolchain, not from a download.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { simHosts, SimHosts, SimHost, pulumiInside } from "../helpers/hosts";

const workDir = path.join(REPO, "tests/fixtures/command");

describe("@pulumi/command offline", () => {
  let t: TestStack;
  afterAll(async () => {
    await t?.dispose();
  });

  test("local.Command runs its create, update and delete commands", async () => {
    t = await testStack(workDir, "command");
    const marker = path.join(t.scratch, "marker");
    await t.stack.setConfig("marker", { value: marker });

    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs.stdout.value).toBe("created\nLinux");
    expect(fs.readFileSync(marker, "utf8")).toBe("hello\n");

    // A changed environment is an update; with no `update` command the create command runs again.
    await t.stack.setConfig("greeting", { value: "bonjour" });
    const preview = await t.stack.preview();
    expect(preview.changeSummary).toEqual({ same: 1, update: 1 });
    await t.stack.up();
    expect(fs.readFileSync(marker, "utf8")).toBe("bonjour\n");

    await t.stack.destroy();
    expect(fs.existsSync(marker)).toBe(false);
  });
});

// remote.Command against a simulated host: `pulumi` itself runs inside host A's network
// namespace (a wrapper: `ip netns exec <A> pulumi ...`, so the plugin's ssh does too) and
// connects to host B's address on the veth between them; nothing leaves the namespaces the
// test made. The namespaces share files, so what proves a command ran on B is what only B's
// namespace shows: `ip -o link` there lists B's end of the veth, never A's.
describe("@pulumi/command remote.Command over ssh (simulated hosts)", () => {
  const workDir = path.join(REPO, "tests/fixtures/command-remote");
  let sim: SimHosts | undefined;
  let t: TestStack | undefined;
  let out = "";
  let a: SimHost;
  let b: SimHost;

  beforeAll(async () => {
    sim = simHosts("h20cm", 2);
    [a, b] = sim.hosts;
    out = fs.mkdtempSync(path.join(sim.scratch, "out-"));
    const pulumiCommand = await pulumiInside(sim, a);
    t = await testStack(
      workDir,
      `h20cmd-remote-${path.basename(sim.scratch).slice(-6)}`,
      {
        mode: "ok",
        out,
        address: b.tunnelAddress!,
        unreachable: "192.0.2.9", // on A's veth subnet, where nothing answers
        keyFile: b.host.privateKey,
        hostKeyFile: path.join(sim.scratch, "b", "host_ed25519.pub"),
        wrongHostKeyFile: path.join(sim.scratch, "a", "host_ed25519.pub"),
      },
      { pulumiCommand },
    );
  });
  afterAll(async () => {
    try {
      await t?.dispose();
    } finally {
      sim?.teardown();
    }
  });

  const read = (f: string) => fs.readFileSync(path.join(out, f), "utf8");
  const onB = (f: string) => {
    const links = read(f);
    expect(links).toContain(b.tunnelDevice!);
    expect(links).not.toContain(a.tunnelDevice!);
  };

  test("create, update and delete run on the remote host; environment and stdin arrive intact", async () => {
    const up = await t!.stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs.stdout.value).toBe("made");
    onB("created");
    expect(read("env")).toBe(up.outputs.hostile.value);
    expect(read("stdin")).toBe(up.outputs.hostileStdin.value);
    expect(fs.readdirSync(out).filter((f) => f.startsWith("pwned"))).toEqual([]);

    await t!.stack.setConfig("greeting", { value: "bonjour 'à' $(id)" });
    const up2 = await t!.stack.up();
    expect(up2.summary.resourceChanges).toEqual({ same: 1, update: 1 });
    expect(up2.outputs.stdout.value).toBe("updated bonjour 'à' $(id)");
    onB("updated");
    expect(read("previous")).toBe("made");

    await t!.stack.destroy();
    onB("deleted");
    expect(fs.readdirSync(out).filter((f) => f.startsWith("pwned"))).toEqual([]);
  });

  test("without a hostKey the first key is recorded (accept-new) and a changed one is refused", async () => {
    const kh = path.join(sim!.scratch, "tofu_known_hosts");
    const keyOf = (letter: string) =>
      fs
        .readFileSync(path.join(sim!.scratch, letter, "host_ed25519.pub"), "utf8")
        .split(" ")
        .slice(0, 2)
        .join(" ");
    process.env.UMLAB_COMMAND_KNOWN_HOSTS = kh; // the engine, and so the plugin, inherit it
    try {
      await t!.stack.setConfig("mode", { value: "tofu" });
      expect((await t!.stack.up()).summary.result).toBe("succeeded");
      onB("created");
      expect(fs.readFileSync(kh, "utf8")).toContain(`192.0.2.2 ${keyOf("b")}`);
      await t!.stack.destroy();
      fs.writeFileSync(kh, `192.0.2.2 ${keyOf("a")}\n`); // B "changed" its key
      fs.rmSync(path.join(out, "created"));
      await expect(t!.stack.up()).rejects.toThrow(
        /ssh to root@192\.0\.2\.2 port 22 failed[^]*Host key verification failed/,
      );
      expect(fs.existsSync(path.join(out, "created"))).toBe(false);
    } finally {
      delete process.env.UMLAB_COMMAND_KNOWN_HOSTS;
    }
  });

  test("a failing command fails the step with its stderr and the host", async () => {
    await t!.stack.setConfig("mode", { value: "fail" });
    await expect(t!.stack.up()).rejects.toThrow(
      /command exited with 3 on root@192\.0\.2\.2 port 22[^]*it broke: no such thing/,
    );
  });

  test("an unreachable host fails the step naming it; a wrong host key is refused", async () => {
    for (const f of ["created", "env", "stdin"]) fs.rmSync(path.join(out, f), { force: true });
    await t!.stack.setConfig("mode", { value: "unreachable" });
    await expect(t!.stack.up()).rejects.toThrow(/ssh to root@192\.0\.2\.9 port 22 failed \(exit 255/);
    await t!.stack.setConfig("mode", { value: "badkey" });
    await expect(t!.stack.up()).rejects.toThrow(
      /ssh to root@192\.0\.2\.2 port 22 failed[^]*Host key verification failed/,
    );
    expect(fs.existsSync(path.join(out, "created"))).toBe(false);
    // The private key and known_hosts files of each run were in a temp dir removed after it.
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("umlab-command-"))).toEqual([]);
  });
});
