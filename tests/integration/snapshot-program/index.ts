// Three busybox guests on one switch, for tests/integration/snapshot.test.ts:
//   backing    the shared busybox image (built once by the test)
//   writer     "true": each guest's startup runs a writer loop (/root/loop.log, one number a line)
//   snapshot   a name: a Snapshot resource of the three guests' disks (in snapshotDir if given)
//   from       a snapshot directory: every root disk is restored from it (a clone)
//   restore    with from: only these guests' disks (comma-separated; default all)
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const config = new pulumi.Config();
const backing = config.require("backing");
const writer = config.getBoolean("writer") ?? false;
const snapshot = config.get("snapshot");
const from = config.get("from");
const restore = (config.get("restore") ?? "g1,g2,g3").split(",");

const lab = new umlab.Lab("lab");
const sw = new umlab.Switch("sw0", { lab });

const guests = [1, 2, 3].map((i) => {
  const name = `g${i}`;
  const root = new umlab.CowDisk(`${name}-root`, {
    lab,
    backing,
    ...(from && restore.includes(name) ? { fromSnapshot: { dir: from, guest: name } } : {}),
  });
  return new umlab.Guest(name, {
    lab,
    disks: [root],
    nics: [{ switch: sw, addresses: [`10.0.0.${i}/24`] }],
    startup: writer
      ? "(n=0; while :; do n=$((n+1)); echo $n >> /root/loop.log; sleep 0.02; done) &\n"
      : undefined,
  });
});

const snap = snapshot
  ? new umlab.Snapshot(snapshot, {
      lab,
      guests,
      dir: config.get("snapshotDir"),
      outputs: { addresses: ["10.0.0.1", "10.0.0.2", "10.0.0.3"] },
    })
  : undefined;

export const labDir = lab.dir;
export const snapshotDir = snap?.dir;
export const snapshotAllocated = snap?.allocated;
export const guestInfo = pulumi
  .all(guests.map((g) => pulumi.all([g.name, g.pid, g.mconsole, g.guestDir, g.bootId])))
  .apply((rows) =>
    rows.map(([name, pid, mconsole, guestDir, bootId]) => ({ name, pid, mconsole, guestDir, bootId })),
  );
