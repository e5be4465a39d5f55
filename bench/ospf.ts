// OSPF ring benchmarks (examples/ospf-ring, four FRR routers): `pulumi up` until the lab
// checks pass beside a plain shell script that starts the same switches and guests (same
// image, same FRR configs, same convergence test run inside the guests) until converged,
// both in this run; the outage a 50 ms ping sees when the transit node's interface goes down
// (declaratively: program change + up) and when the transit node is killed; the exec agent's
// round trip beside an mconsole round trip. Figures, never pass/fail.
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import type { Figure } from "./index";
import { median, timed, labWorkspace, timePlainScript, disposeBench } from "./measure";
import { run, waitFor, sleep } from "../provider/host/process";
import { buildImage, resolveSpec } from "../provider/image/provider";
import { exec } from "../sdk/exec";
import { ensurePulumiOnPath } from "../tests/helpers/lab";
import { recordRoute, startPing } from "../tests/helpers/ospf";
import { daemons, frrConf, nicAddresses, nodes, startup, PACKAGES } from "../examples/ospf-ring/ring";

/**
 * The convergence test the plain guests run themselves: the lab checks' tests (two Full
 * neighbours, then each service address answers), each retried every 0.5 s like the checks.
 */
function convergenceProbe(n: number): string {
  const others = nodes.filter((k) => k !== n).map((k) => `192.168.100.${k}`);
  return [
    "(",
    '  until [ "$(vtysh -c "show ip ospf neighbor" | grep -c Full/)" -ge 2 ]; do sleep 0.5; done',
    `  for a in ${others.join(" ")}; do`,
    "    until ping -c 1 -W 1 $a >/dev/null 2>&1; do sleep 0.5; done",
    "  done",
    "  echo ok > /umlab/state/converged",
    ") </dev/null >/dev/null 2>&1 &",
    "",
  ].join("\n");
}

// The floor: what a person would type to launch the same ring, then wait for the guests to
// report convergence. The guest folders (contract config, FRR files, startup) are written first.
const PLAIN_SCRIPT = `
set -e
D=$1; B=$2
mkdir -p "$D/uml"
for k in 1 2 3 4; do
  setsid uml_switch -unix "$D/sw$k.ctl" </dev/null >"$D/sw$k.log" 2>&1 &
  echo $! >> "$D/pids"
done
for k in 1 2 3 4; do while [ ! -S "$D/sw$k.ctl" ]; do sleep 0.01; done; done
for n in 1 2 3 4; do
  p=$(( (n + 2) % 4 + 1 ))
  G="$D/g$n"
  setsid linux.uml mem=128M ubd0="$D/n$n.cow,$B" root=/dev/ubda rw uml_dir="$D/uml" umid=node0$n \\
    con=null con0=null,fd:1 ssl=null eth0=daemon,,unix,"$D/sw$n.ctl" eth1=daemon,,unix,"$D/sw$p.ctl" \\
    init=/sbin/umlab-init umlab.dir="$G" </dev/null >"$G/console.log" 2>&1 &
  echo $! >> "$D/pids"
done
for n in 1 2 3 4; do while [ ! -e "$D/g$n/state/converged" ]; do sleep 0.05; done; done
`;

/** The plain-script ring until converged (seconds); `whileUp` gets its pids (4 switches, then 4 guests). */
export async function plainRing(
  backing: string,
  opts: { bfd?: boolean; whileUp?: (pids: number[]) => Promise<void> } = {},
): Promise<number> {
  const bfd = opts.bfd ?? true;
  return timePlainScript(
    "ubr",
    PLAIN_SCRIPT,
    backing,
    (dir) => {
      for (const n of nodes) {
        const g = path.join(dir, `g${n}`);
        fs.mkdirSync(path.join(g, "state"), { recursive: true });
        fs.mkdirSync(path.join(g, "files/etc/frr"), { recursive: true, mode: 0o755 });
        fs.chmodSync(path.join(g, "files"), 0o755);
        const [a0, a1] = nicAddresses(n);
        fs.writeFileSync(
          path.join(g, "config"),
          `hostname node0${n}\naddr eth0 ${a0}\naddr eth1 ${a1}\nsysctl net.ipv4.ip_forward 1\n`,
        );
        fs.writeFileSync(path.join(g, "files/etc/frr/frr.conf"), frrConf(n, bfd));
        fs.writeFileSync(path.join(g, "files/etc/frr/daemons"), daemons(bfd));
        fs.writeFileSync(path.join(g, "startup"), startup(n) + convergenceProbe(n));
      }
    },
    { whileUp: opts.whileUp },
  );
}

interface NodeInfo {
  name: string;
  pid: number;
  guestDir: string;
}

export async function benchOspf(): Promise<Figure[]> {
  ensurePulumiOnPath();
  const { workDir, scratch, runtime, env } = labWorkspace("ospf-ring", "ospf");
  const figures: Figure[] = [];
  const stack = await LocalWorkspace.createOrSelectStack({ stackName: "bench", workDir }, { envVars: env });
  try {
    // Both sides start from the cached image.
    const image = await buildImage(resolveSpec({ preset: "debian", packages: PACKAGES }));
    const plain = await plainRing(image.path);

    const [up, upSecs] = await timed(() => stack.up());
    if (!up.outputs.checksOk?.value) throw new Error(`ospf-ring checks failed:\n${up.outputs.checks?.value}`);
    figures.push({
      name: "ospf-ring up until converged (4 FRR routers)",
      value: upSecs,
      unit: "s",
      baseline: plain,
      baselineLabel: "plain shell script",
      target: "<= 1.1x",
    });
    const ns = up.outputs.nodeInfo.value as NodeInfo[];
    const node01 = ns[0];

    // Exec round trip beside an mconsole round trip (the host tool's own request/reply).
    const lat: number[] = [];
    for (let i = 0; i < 100; i++) lat.push((await exec(node01, ["true"])).durationMs);
    const mc: number[] = [];
    const sock = path.join(path.dirname(path.dirname(node01.guestDir)), "uml/node01/mconsole");
    for (let i = 0; i < 100; i++) {
      const [, s] = await timed(() => run("uml_mconsole", [sock, "proc", "sys/kernel/hostname"]));
      mc.push(s * 1000);
    }
    figures.push({
      name: "exec round trip `true` (median of 100)",
      value: median(lat),
      unit: "ms",
      baseline: median(mc),
      baselineLabel: "uml_mconsole proc (median of 100)",
    });

    // Transit interface down, declaratively.
    const viaNode04 = async () => (await recordRoute(node01, "192.168.100.3")).includes("192.168.3.4");
    await waitFor(viaNode04, 60_000, 250);
    let ping = await startPing(node01, "192.168.100.3");
    await sleep(1000);
    await stack.setConfig("down", { value: "node04:eth1" });
    await stack.up();
    await sleep(3000);
    const down = await ping.stop();
    figures.push({
      name: "outage: transit interface down (ping every 50 ms)",
      value: down.outageSeconds,
      unit: "s",
      target: "seed: 3 s; plain-script FRR (DESIGN.md): no ping lost",
    });

    // Transit node killed.
    await stack.setConfig("down", { value: "" });
    await stack.up();
    await waitFor(viaNode04, 60_000, 250);
    ping = await startPing(node01, "192.168.100.3");
    await sleep(1000);
    process.kill(-ns[3].pid, "SIGKILL");
    await sleep(6000);
    const killed = await ping.stop();
    figures.push({
      name: "outage: transit node killed (ping every 50 ms, BFD)",
      value: killed.outageSeconds,
      unit: "s",
      target: "seed: under a minute; plain-script FRR dead 3 s (DESIGN.md): ~1.8 s",
    });
  } finally {
    await disposeBench(stack, { workDir, scratch, runtime });
  }
  return figures;
}
