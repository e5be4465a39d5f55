// How a guest boots (provider/guest/boot.ts): its kernel command line and the contract's config file.
import {
  guestArgs,
  contractConfig,
  nicTransport,
  cableTtys,
  serialTransports,
} from "../../../provider/guest/boot";
import { nic, base } from "./fixtures";

describe("guest command line and contract", () => {
  test("the kernel command line boots the contract init with the mconsole inside the lab dir", () => {
    const args = guestArgs({ ...base, serial: ["pts"], kernelArgs: ["quiet"] }, "/l");
    expect(args).toEqual([
      "mem=64M",
      "ubd0=/l/disk/g1.cow,/img/base.img",
      "root=/dev/ubda",
      "rw",
      "uml_dir=/l/uml",
      "umid=g1",
      "con=null",
      "con0=fd:0,fd:1",
      "con7=fd:3,null",
      "ssl=null",
      "ssl0=pts",
      "eth0=daemon,02:00:00:00:00:01,unix,/l/sw/sw0.ctl",
      "hostfs=/l/g/g1",
      "init=/sbin/umlab-init",
      "umlab.dir=/",
      "quiet",
    ]);
  });

  test("vde NICs use the vde transport with the control directory", () => {
    expect(nicTransport({ engine: "vde", control: "/l/sw/sw0", mac: "02:00:00:00:00:01" })).toBe(
      "vde,/l/sw/sw0,02:00:00:00:00:01",
    );
  });

  test("the config file carries the contract lines in the contract's vocabulary", () => {
    const text = contractConfig({
      ...base,
      nics: [nic(), nic({ addresses: ["10.0.1.1/24", "fd00::1/64"] })],
      modules: ["dummy"],
      routes: [{ dest: "default", via: "10.0.0.254" }],
      sysctls: { "net.ipv4.ip_forward": "1" },
    });
    expect(text).toBe(
      [
        "hostname g1",
        "module dummy",
        "addr eth0 10.0.0.1/24",
        "addr eth1 10.0.1.1/24",
        "addr eth1 fd00::1/64",
        "route default via 10.0.0.254",
        "sysctl net.ipv4.ip_forward 1",
        "",
      ].join("\n"),
    );
  });
});

describe("cable ends: the ttys the init drains at every boot", () => {
  const serial = ["null", "cable:/l/cables/hb.a", "pts", "cable:/l/cables/x.b"];
  test("sslN is ttySN: only the cable entries, at their own index", () => {
    expect(cableTtys(serial)).toEqual(["ttyS1", "ttyS3"]);
    // The same entries are the fd transports on the command line.
    expect(serialTransports(serial)).toEqual(["null", "fd:4,fd:5", "pts", "fd:6,fd:7"]);
  });
  test("a guest with cables gets one `cable` line per end; one without gets none", () => {
    expect(contractConfig({ ...base, serial })).toContain("cable ttyS1\ncable ttyS3\n");
    expect(contractConfig({ ...base, serial: ["null", "pts", "tty:/dev/ttyUSB0"] })).not.toMatch(/cable/);
    expect(cableTtys([])).toEqual([]);
  });
});

describe("a failed boot's error shows the kernel's first error, not only the tail", () => {
  const { panicExcerpt } = require("../../../provider/guest/boot");
  test("the lines around the first VFS/panic line", () => {
    const log = [
      ...Array.from({ length: 30 }, (_, i) => `boot line ${i}`),
      "ubda: unable to open COW file (locked)",
      'VFS: Cannot open root device "ubda" or unknown-block(98,0): error -6',
      "Kernel panic - not syncing: VFS: Unable to mount root fs",
      ...Array.from({ length: 40 }, (_, i) => `stack ${i}`),
    ].join("\n");
    const x = panicExcerpt(log);
    expect(x).toContain("ubda: unable to open COW file");
    expect(x).toContain("boot line 29");
    expect(x).not.toContain("stack 10");
    expect(panicExcerpt("all fine\nready")).toBe("");
  });
});
