// Two busybox guests on one switch for tests/integration/exec.test.ts:
//   backing   the shared busybox image (built once by the test)
//   linkDown  "true": g2's eth0 is taken down (an in-place change)
//   trigger   any value: the Exec resource runs again when it changes
//   netemLoss netem loss percent on g2's eth0: busybox has no netem, so `up` fails saying so
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const config = new pulumi.Config();
const backing = config.require("backing");
const linkDown = config.getBoolean("linkDown") ?? false;
const trigger = config.get("trigger") ?? "1";
const netemLoss = config.getNumber("netemLoss") ?? 0;

const lab = new umlab.Lab("lab");
const sw = new umlab.Switch("sw0", { lab });
const guests = [1, 2].map((i) => {
  const name = `g${i}`;
  const root = new umlab.CowDisk(`${name}-root`, { lab, backing });
  return new umlab.Guest(name, {
    lab,
    disks: [root],
    nics: [
      {
        switch: sw,
        addresses: [`10.0.0.${i}/24`],
        linkDown: i === 2 && linkDown,
        netem: i === 2 && netemLoss > 0 ? { lossPercent: netemLoss } : undefined,
      },
    ],
  });
});

// Runs at create, again when `trigger` changes; records each run in the guest.
const stamp = new umlab.Exec("stamp", {
  guest: guests[0],
  command: `echo run-${trigger} >> /root/runs; cat /root/runs; echo to-stderr >&2`,
  triggers: [trigger],
});

export const labDir = lab.dir;
export const guestInfo = pulumi
  .all(guests.map((g) => pulumi.all([g.name, g.pid, g.guestDir, g.bootId, g.mconsole])))
  .apply((rows) =>
    rows.map(([name, pid, guestDir, bootId, mconsole]) => ({ name, pid, guestDir, bootId, mconsole })),
  );
export const stampOut = { stdout: stamp.stdout, stderr: stamp.stderr, exitCode: stamp.exitCode };
