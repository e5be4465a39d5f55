// The quickstart topology with knobs for tests/integration/core.test.ts:
//   backing   the shared busybox image (built once by the test)
//   engine    uml_switch | vde
//   extraNic  "true": g1 gets eth1 on switch sw1 (10.0.1.1/24): an in-place change
// Each guest's startup script pings its neighbours until they answer and records it in
// state/ping-<address>, so the test sees real traffic through the switch.
import * as pulumi from "@pulumi/pulumi";
import * as umlab from "../../../sdk";

const config = new pulumi.Config();
const backing = config.require("backing");
const engine = (config.get("engine") ?? "uml_switch") as "uml_switch" | "vde";
const extraNic = config.getBoolean("extraNic") ?? false;

const lab = new umlab.Lab("lab");
const sw0 = new umlab.Switch("sw0", { lab, engine });
const sw1 = new umlab.Switch("sw1", { lab, engine });
const addresses = [1, 2, 3].map((i) => `10.0.0.${i}`);

const guests = [1, 2, 3].map((i) => {
  const name = `g${i}`;
  const root = new umlab.CowDisk(`${name}-root`, { lab, backing });
  const neighbours = addresses.filter((a) => a !== `10.0.0.${i}`);
  const nics: umlab.NicArgs[] = [{ switch: sw0, addresses: [`10.0.0.${i}/24`] }];
  if (extraNic && i === 1) nics.push({ switch: sw1, addresses: ["10.0.1.1/24"] });
  return new umlab.Guest(name, {
    lab,
    disks: [root],
    nics,
    startup: [
      "(",
      `for n in ${neighbours.join(" ")}; do`,
      "  k=0",
      '  until ping -c 1 -W 1 "$n" >/dev/null 2>&1; do k=$((k+1)); [ $k -gt 120 ] && break; sleep 0.5; done',
      '  [ $k -le 120 ] && echo ok > /umlab/state/ping-"$n"',
      "done",
      ") &",
      "",
    ].join("\n"),
  });
});

export const labDir = lab.dir;
export const labId = lab.labId;
export const switches = {
  sw0: { pid: sw0.pid, control: sw0.control },
  sw1: { pid: sw1.pid, control: sw1.control },
};
export const guestInfo = pulumi
  .all(guests.map((g) => pulumi.all([g.name, g.pid, g.mconsole, g.consoleLog, g.guestDir, g.bootId])))
  .apply((rows) =>
    rows.map(([name, pid, mconsole, consoleLog, guestDir, bootId]) => ({
      name,
      pid,
      mconsole,
      consoleLog,
      guestDir,
      bootId,
    })),
  );
