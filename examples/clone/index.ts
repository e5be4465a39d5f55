// Prepare a lab once, snapshot it, hand out clones: the quickstart lab (three busybox guests
// on one switch) whose disks can be snapshotted (config `snapshot`) or restored from a
// snapshot (config `from`, a snapshot directory), so each student's stack starts with the
// teacher's prepared disks, each COW file a sparse copy over the one shared image.
//
//   pulumi stack select --create teacher && pulumi up        # the teacher's lab
//   umlab exec g1 -- sh -c 'echo prepared > /root/notes'     # prepare it
//   pulumi config set snapshot base && pulumi up             # the Snapshot (one create)
//   pulumi stack output snapshotDir                          # <runtime root>/snapshots/umlab-clone.teacher.base
//   pulumi stack select --create alice && pulumi config set from <that dir> && pulumi up
//   umlab exec --stack alice g1 -- cat /root/notes           # "prepared"
//
// Shared with another machine: `umlab export <snapshot dir> lab.tar.gz` here (the program, this
// stack's config, the disks), `umlab import --up lab.tar.gz <folder>` there: its config sets
// `umlab:restoreFrom`, which restores every disk the snapshot has (no `from` needed).
//
// Checks (all stacks): each guest pings its neighbour; in a clone, /root/notes is there.
//
// `umlab snapshot teacher base2` takes one from the command line instead (with the stack's
// outputs in its manifest). Deleting the Snapshot (`pulumi config rm snapshot && pulumi up`)
// removes its directory; clones keep their copies.
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../sdk";

const config = new pulumi.Config();
const snapshot = config.get("snapshot");
const from = config.get("from");

const lab = new umlab.Lab("lab");
const image = new umlab.Image("busybox", { preset: "busybox" });
const sw = new umlab.Switch("sw0", { lab });

const guests = [1, 2, 3].map((i) => {
  const name = `g${i}`;
  const root = new umlab.CowDisk(`${name}-root`, {
    lab,
    backing: image.path,
    backingVersion: image.sha256,
    // A clone: the snapshot's disk of the guest of the same name (its hash and backing checked).
    fromSnapshot: from ? { dir: from, guest: name } : undefined,
  });
  return new umlab.Guest(name, { lab, disks: [root], nics: [{ switch: sw, addresses: [`10.0.0.${i}/24`] }] });
});

// A clone (config `from`, or the lab-level umlab:restoreFrom) must have the prepared file.
const restored = Boolean(from || lab.restoreFrom);
const checks = new umlab.Checks("checks", {
  checks: guests.flatMap((g, k) => [
    umlab.check.ping(g, `10.0.0.${((k + 1) % 3) + 1}`),
    ...(restored
      ? [umlab.check.command(g, ["cat", "/root/notes"], /prepared/, { name: `notes-g${k + 1}` })]
      : []),
  ]),
  deadlineSeconds: 120,
  failOnError: true,
});

const snap = snapshot ? new umlab.Snapshot(snapshot, { lab, guests }) : undefined;

export const labDir = lab.dir;
export const checksOk = checks.ok;
export const snapshotDir = snap?.dir;
export const snapshotMiB = snap?.allocated.apply((b) => +(b / 1048576).toFixed(1));
