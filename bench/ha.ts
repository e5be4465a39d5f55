// HA cluster benchmarks (examples/ha-cluster): the client's outage per drill (takeover,
// hb_standby failover and failback, kill -9 from the host, the softdog's reboot and the failback
// after it), measured by the drill runner's
// probe (the client's NFS writer: the longest gap between acknowledged synchronous records;
// every acknowledged record read back), beside the talk's expectation;
// and `pulumi up` of the cluster until its checks pass beside a plain shell script that starts
// the same switches and three guests until the client reaches the service address.
// Figures, never pass/fail.
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import type { Figure } from "./index";
import { timed, labWorkspace, timePlainScript, disposeBench } from "./measure";
import { buildImage, resolveSpec } from "../provider/image/provider";
import { ensurePulumiOnPath } from "../tests/helpers/lab";
import {
  PACKAGES,
  PUBLIC,
  PRIVATE,
  SERVICE_ADDRESS,
  haCf,
  authKeys,
  nodeStartup,
  hanfsScript,
  clusterMsgFix,
  CLUSTERMSG_FILE,
} from "../examples/ha-cluster/cluster";
import { runDrill } from "../examples/ha-cluster/drills/main";
import { DrillStack } from "../examples/ha-cluster/drills/stack";

const TALK = "talk: hangs for a while, then continues";

// The floor: two uml_switches and three guests started by hand (no serial cable: heartbeat
// runs over both Ethernets; no shared disk or NFS: the service address is the only
// resource), until the client reaches the service address.
const PLAIN_SCRIPT = `
set -e
D=$1; B=$2
mkdir -p "$D/uml"
for s in pub priv; do
  setsid uml_switch -unix "$D/$s.ctl" </dev/null >"$D/$s.log" 2>&1 &
  echo $! >> "$D/pids"
done
for s in pub priv; do while [ ! -S "$D/$s.ctl" ]; do sleep 0.01; done; done
for n in one two client; do
  G="$D/$n"; NICS="eth0=daemon,,unix,$D/pub.ctl"
  [ $n != client ] && NICS="$NICS eth1=daemon,,unix,$D/priv.ctl"
  setsid linux.uml mem=128M ubd0="$D/$n.cow,$B" root=/dev/ubda rw uml_dir="$D/uml" umid=$n \\
    con=null con0=null,fd:1 ssl=null $NICS init=/sbin/umlab-init umlab.dir="$G" </dev/null >"$G/console.log" 2>&1 &
  echo $! >> "$D/pids"
done
while [ ! -e "$D/client/state/reached" ]; do sleep 0.05; done
`;

export async function plainCluster(backing: string): Promise<number> {
  return timePlainScript("ubh", PLAIN_SCRIPT, backing, (dir) => {
    const addrs: Record<string, string[]> = {
      one: [`${PUBLIC.one}/24`, `${PRIVATE.one}/24`],
      two: [`${PUBLIC.two}/24`, `${PRIVATE.two}/24`],
      client: [`${PUBLIC.client}/24`],
    };
    for (const [n, a] of Object.entries(addrs)) {
      const g = path.join(dir, n);
      fs.mkdirSync(path.join(g, "state"), { recursive: true });
      fs.mkdirSync(path.join(g, "files/etc/ha.d"), { recursive: true, mode: 0o755 });
      fs.chmodSync(path.join(g, "files"), 0o755);
      fs.writeFileSync(
        path.join(g, "config"),
        `hostname ${n}\n${a.map((x, i) => `addr eth${i} ${x}\n`).join("")}`,
      );
      if (n === "client") {
        fs.writeFileSync(
          path.join(g, "startup"),
          `(until ping -c 1 -W 1 ${SERVICE_ADDRESS} >/dev/null 2>&1; do sleep 0.5; done; echo ok > /umlab/state/reached) </dev/null >/dev/null 2>&1 &\n`,
        );
        continue;
      }
      fs.writeFileSync(path.join(g, "files/etc/ha.d/ha.cf"), haCf().replace("serial /dev/ttyS1\n", ""));
      // No shared disk or NFS here: the address is the only resource (the full group needs
      // /dev/ubdb). nodeStartup chmods the hanfs script, so it is there (set -e: the startup
      // stopped at that chmod without it, and heartbeat never started).
      fs.writeFileSync(
        path.join(g, "files/etc/ha.d/haresources"),
        `one IPaddr2::${SERVICE_ADDRESS}/24/eth0\n`,
      );
      fs.mkdirSync(path.join(g, "files/etc/ha.d/resource.d"), { recursive: true, mode: 0o755 });
      fs.writeFileSync(path.join(g, "files/etc/ha.d/resource.d/hanfs"), hanfsScript());
      fs.writeFileSync(path.join(g, "files/etc/ha.d/authkeys"), authKeys("umlab-ha-bench"));
      // nodeStartup sources it from heartbeat's shellfuncs (a missing file would stop every
      // heartbeat script), and the floor should not lose messages the lab does not.
      fs.writeFileSync(path.join(g, "files", CLUSTERMSG_FILE), clusterMsgFix());
      fs.writeFileSync(path.join(g, "startup"), nodeStartup(true));
    }
  });
}

export async function benchHa(): Promise<Figure[]> {
  ensurePulumiOnPath();
  const { workDir, scratch, runtime, env } = labWorkspace("ha-cluster", "ha");
  const figures: Figure[] = [];
  const stackName = "bench";
  const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir }, { envVars: env });
  try {
    const image = await buildImage(resolveSpec({ preset: "debian", packages: PACKAGES }));
    const plain = await plainCluster(image.path);
    const [up, upSecs] = await timed(() => stack.up());
    if (!up.outputs.checksOk?.value)
      throw new Error(`ha-cluster checks failed:\n${up.outputs.checks?.value}`);
    figures.push({
      name: "ha-cluster up until the checks pass (3 guests)",
      value: upSecs,
      unit: "s",
      baseline: plain,
      baselineLabel: "plain shell script (no serial cable, no shared disk/NFS)",
    });
    const drills = new DrillStack(workDir, stackName, { ...process.env, ...env });
    for (const name of ["takeover", "standby", "kill-host", "watchdog"]) {
      const r = await runDrill(name, drills, { print: () => undefined });
      for (const o of r.outages)
        figures.push({
          name: `outage: ${o.label.replace(/ \(.*/, "")}${o.result.verified === false ? " (records LOST)" : ""}`,
          value: o.result.outageSeconds,
          unit: "s",
          target: TALK,
        });
    }
  } finally {
    await disposeBench(stack, { workDir, scratch, runtime });
  }
  return figures;
}
