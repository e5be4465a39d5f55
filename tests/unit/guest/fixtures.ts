// Guest inputs for the unit tests: one NIC on a uml_switch, a COW root disk.
import { GuestInputs, NicInputs } from "../../../provider/core/schemas";

export const nic = (over: Partial<NicInputs> = {}): NicInputs => ({
  engine: "uml_switch",
  control: "/l/sw/sw0.ctl",
  switchInstance: "100:5",
  switchGeneration: "switch/sw0/uml_switch/learning",
  mac: "02:00:00:00:00:01",
  addresses: ["10.0.0.1/24"],
  linkDown: false,
  ...over,
});

export const base: GuestInputs = {
  labDir: "/l",
  name: "g1",
  kernel: "/usr/bin/linux.uml",
  memory: "64M",
  disks: [{ path: "/l/disk/g1.cow", backing: "/img/base.img" }],
  nics: [nic()],
  hostname: undefined,
  routes: [],
  sysctls: {},
  modules: [],
  files: {},
  startup: undefined,
  serial: [],
  kernelArgs: [],
  readyTimeoutSeconds: 120,
  paused: false,
};
