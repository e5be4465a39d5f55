// The default lab: one switch, three busybox guests on 10.0.0.0/24, each on its own COW
// disk over one shared, never-written image. Traffic stays inside the switch.
//
//   pulumi up                                  # boot it (from the repo root: npm start)
//   npm run umlab -- exec g1 -- ping -c 2 10.0.0.2   # run a command in a guest
//   npm run umlab -- console g2                # its console; Ctrl-] detaches
//   pulumi destroy                             # nothing left behind (npm run down)
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../sdk";

const config = new pulumi.Config();
const engine = (config.get("engine") ?? "uml_switch") as "uml_switch" | "vde";

const lab = new umlab.Lab("lab");
const image = new umlab.Image("busybox", { preset: "busybox" });
const sw = new umlab.Switch("sw0", { lab, engine });

const guests = [1, 2, 3].map((i) => {
  const name = `g${i}`;
  const root = new umlab.CowDisk(`${name}-root`, { lab, backing: image.path, backingVersion: image.sha256 });
  return new umlab.Guest(name, {
    lab,
    disks: [root],
    nics: [{ switch: sw, addresses: [`10.0.0.${i}/24`] }],
  });
});

export const labDir = lab.dir;
export const switchControl = sw.control;
export const reach = pulumi
  .all(guests.map((g) => pulumi.all([g.name, g.mconsole, g.consoleLog, g.guestDir])))
  .apply((rows) =>
    Object.fromEntries(
      rows.map(([name, mconsole, consoleLog, guestDir], k) => [
        name,
        {
          address: `10.0.0.${k + 1}`,
          exec: `npm run umlab -- exec ${name} -- ip addr`,
          console: `npm run umlab -- console ${name}`,
          mconsole: `uml_mconsole ${mconsole} proc uptime`,
          consoleLog,
          guestDir,
        },
      ]),
    ),
  );
