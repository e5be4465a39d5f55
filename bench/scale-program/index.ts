// The scale bench's lab (npm run bench -- scale): N busybox guests on one switch, 10.0.0.1..N/24,
// each on its own COW disk over the one image; with `checks`, every guest pings its neighbour.
//   config guests   N (1..250, default 10)
//   config checks   true: add the Checks resource (guest i pings guest i+1, the last pings the first)
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../sdk";

const config = new pulumi.Config();
const n = config.getNumber("guests") ?? 10;
if (!Number.isInteger(n) || n < 1 || n > 250)
  throw new Error(`config guests: ${n} is not a guest count: give 1..250 (one /24)`);

const lab = new umlab.Lab("lab");
const image = new umlab.Image("busybox", { preset: "busybox" });
const sw = new umlab.Switch("sw0", { lab });
const address = (i: number) => `10.0.0.${i}`;

const guests = Array.from({ length: n }, (_, k) => {
  const name = `g${k + 1}`;
  const root = new umlab.CowDisk(`${name}-root`, { lab, backing: image.path, backingVersion: image.sha256 });
  return new umlab.Guest(name, {
    lab,
    disks: [root],
    nics: [{ switch: sw, addresses: [`${address(k + 1)}/24`] }],
  });
});

const checks = config.getBoolean("checks")
  ? new umlab.Checks("neighbours", {
      checks: guests.map((g, k) =>
        umlab.check.ping(g, address(((k + 1) % n) + 1), { name: `g${k + 1} pings its neighbour` }),
      ),
      deadlineSeconds: 300,
    })
  : undefined;

export const labDir = lab.dir;
export const pids = pulumi.all(guests.map((g) => g.pid));
export const checksOk = checks?.ok;
export const checksSummary = checks?.summary;
