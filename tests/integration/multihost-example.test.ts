// examples/multihost on two simulated hosts: `pulumi` runs inside host A's namespace (so "here"
// is A) and reaches host B at its veth address, as a user's machine reaches a second one. The
// program prepares B with remote.Command (runtime root 0700, image cache, packages checked),
// then a guest here and a guest on B share one Ethernet over a HostLink.
import * as fs from "fs";
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import { consolePing, killGroupsMentioning } from "../helpers/lab";
import { processAlive } from "../../provider/host/process";
import { simHosts, SimHosts, inNamespaceOf, leftUnder, pulumiInside } from "../helpers/hosts";

const workDir = path.join(REPO, "examples/multihost");

describe("examples/multihost (simulated hosts)", () => {
  let sim: SimHosts | undefined;
  let t: TestStack | undefined;
  let runtime = "";

  afterAll(async () => {
    try {
      await t?.dispose();
    } finally {
      for (const r of [runtime, ...(sim?.hosts ?? []).map((h) => h.host.runtimeRoot)])
        if (r) killGroupsMentioning(r);
      sim?.teardown();
      if (runtime) fs.rmSync(runtime, { recursive: true, force: true });
    }
  }, 300_000);

  test("host B is prepared first, then a guest here pings a guest on B; a missing package stops it; destroy leaves B clean", async () => {
    sim = simHosts("h20cm", 2);
    const [A, B] = sim.hosts;
    runtime = fs.mkdtempSync("/tmp/h20cmd-");
    process.env.UMLAB_RUNTIME = runtime; // this machine's (A's) runtime root
    t = await testStack(
      workDir,
      `h20cmd-example-${path.basename(runtime).slice(-6)}`,
      {
        address: B.tunnelAddress!,
        keyFile: B.host.privateKey,
        knownHosts: B.host.knownHosts, // holds "192.0.2.2 ssh-ed25519 ..." (hostKey comes from it)
        runtimeRoot: B.host.runtimeRoot,
        cache: B.host.cache,
        node: process.execPath,
      },
      { pulumiCommand: await pulumiInside(sim, A) },
    );

    const up = await t.stack.up();
    expect(up.summary.result).toBe("succeeded");
    const o = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
    // B's runtime root and cache were made 0700 by the preparation (remote.Command on B).
    expect(o.prepared).toMatch(new RegExp(`^ready: \\S+ 700 ${B.host.runtimeRoot}$`));
    expect(fs.statSync(B.host.runtimeRoot).mode & 0o777).toBe(0o700);
    expect(fs.statSync(B.host.cache).mode & 0o777).toBe(0o700);
    // Everything on B waits for the preparation (dependsOn, as the engine recorded it).
    const resources = (await t.stack.exportStack()).deployment.resources as {
      urn: string;
      dependencies?: string[];
    }[];
    const urnOf = (n: string) => resources.find((r) => r.urn.endsWith(`::${n}`));
    const prep = urnOf("prepare-hostb")!.urn;
    for (const n of ["sw2", "g2-root", "g2", "ab"]) expect(urnOf(n)?.dependencies).toContain(prep);
    expect(urnOf("g1")?.dependencies ?? []).not.toContain(prep);
    const [g1, g2] = o.guests as { name: string; pid: number; guestDir: string }[];
    expect(inNamespaceOf(g1.pid, A)).toBe(true);
    expect(inNamespaceOf(g2.pid, B)).toBe(true);
    expect(o.labDirs.hostb.startsWith(`${B.host.runtimeRoot}/`)).toBe(true);
    expect(await consolePing(g1, "10.0.0.2", "example")).toBe(true);

    // A package B lacks: the preparation fails naming it and the fix; the lab is not touched.
    await t.stack.setConfig("packages", { value: JSON.stringify(["vde2", "umlab-no-such-package"]) });
    await expect(t.stack.up()).rejects.toThrow(
      /host B lacks: umlab-no-such-package \(apt-get install -y umlab-no-such-package\)/,
    );
    expect(processAlive(g2.pid)).toBe(true);
    await t.stack.removeConfig("packages");

    const down = await t.stack.destroy();
    expect(down.summary.result).toBe("succeeded");
    expect(leftUnder(B.host.runtimeRoot)).toEqual([]);
    // Not running: gone, or a zombie its new parent has not reaped yet (g2 was started by
    // umlab's request process on B, which exited; this machine's PID 1 reaps orphans lazily).
    expect(processAlive(g2.pid)).toBe(false);
  });
});
