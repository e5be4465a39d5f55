// The guest schema refuses kernel arguments and serial lines that override umlab's own settings
// or reach host files, devices, programs or ports (provider/core/schemas/fields.ts), saying why
// and which Guest field to use instead.
import fc from "fast-check";
import { guestSchema, validate } from "../../../provider/core/schemas";
import { kernelArgProblem } from "../../../provider/core/schemas/fields";

const input = { labDir: "/l", name: "g1", disks: [{ path: "/l/disk/g1.cow" }] };
const check = (over: Record<string, unknown>) => validate(guestSchema(), { ...input, ...over });
const reasons = (over: Record<string, unknown>) => {
  const r = check(over);
  return r.ok ? [] : r.failures.map((f) => `${f.property}: ${f.reason}`);
};

// UML's own option names, as UML matches them (a prefix of the word), and umlab's.
const FORBIDDEN_PREFIXES = [
  "ubd",
  "eth",
  "vec",
  "con=",
  "con0",
  "con1",
  "con7",
  "ssl",
  "mem=",
  "root=",
  "hostfs=",
  "init=",
  "initrd=",
  "umid=",
  "uml_dir=",
  "mconsole=",
  "umlab.",
  "xterm=",
  "tty",
  "iomem=",
  "dsp=",
  "mixer=",
  "virtio_uml.",
  "vfio_uml.",
  "time-travel",
  "time_travel",
];

// The kernel's own "rw"/"ro" are whole words ("rodata=" is another option).
const FORBIDDEN_WORDS = ["rw", "ro"];

describe("kernelArgs", () => {
  test.each([
    ["hostfs=/", /hostfs.*Guest\.files/],
    ["ubd1=/etc/shadow", /host file as a disk.*Guest\.disks/],
    ["ubdb=/dev/sda", /Guest\.disks/],
    ["eth0=tuntap,,,10.0.0.1", /network transport.*Guest\.nics/],
    ["vec0:transport=raw,ifname=eth0", /Guest\.nics/],
    ["init=/bin/sh", /init.*Guest\.startup/],
    ["initrd=/etc/shadow", /host file/],
    ["umlab.dir=/", /umlab\.\*/],
    ["mem=9G", /Guest\.memory/],
    ["umid=other", /management/],
    ["uml_dir=/", /management/],
    ["mconsole=notify:/tmp/s", /management/],
    ["con=xterm", /Guest\.serial/],
    ["con1=port:9000", /Guest\.serial/],
    ["con7=fd:0,fd:1", /exec line/],
    ["ssl=pts", /Guest\.serial/],
    ["ssl3=tty:/dev/sda", /Guest\.serial/],
    ["root=/dev/ubdb", /Guest\.disks/],
    ["rootfstype=ext2", /Guest\.disks/],
    ["ro", /Guest\.disks/],
    ["rw", /Guest\.disks/],
    ["xterm=/usr/bin/evil,-e", /host program/],
    ["tty_log_dir=/etc", /host program|host files/],
    ["iomem=x,/etc/shadow", /host files/],
    ["virtio_uml.device=/tmp/s:1", /host files, devices or sockets/],
    ["time-travel=ext:/tmp/s", /sockets/],
  ])("%s is refused, saying why and what to use", (word, why) => {
    const r = reasons({ kernelArgs: ["quiet", word] });
    expect(r.length).toBe(1);
    expect(r[0]).toMatch(/^kernelArgs\[1\]: /);
    expect(r[0]).toContain(`"${word}" is refused`);
    expect(r[0]).toMatch(why);
  });

  test.each([
    "quiet",
    "loglevel=3",
    "panic=1",
    "console=tty0",
    "softdog.soft_margin=10",
    "net.ifnames=0",
    "debug",
  ])("%s is accepted", (word) => expect(check({ kernelArgs: [word] }).ok).toBe(true));

  test("property: no accepted word starts with a forbidden key; every forbidden key + anything is refused", () => {
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789._:/@%+=,-";
    const wordArb = fc.string({ unit: fc.constantFrom(...alphabet.split("")), minLength: 1, maxLength: 20 });
    const arb = fc.oneof(
      wordArb,
      fc
        .tuple(
          fc.constantFrom(...FORBIDDEN_PREFIXES),
          fc.string({ unit: fc.constantFrom(...alphabet.split("")), maxLength: 12 }),
        )
        .map(([k, s]) => k + s),
    );
    fc.assert(
      fc.property(arb, (word) => {
        const ok = check({ kernelArgs: [word] }).ok;
        if (ok) {
          // "console=..." is the guest kernel's, not UML's con option (UML skips it too).
          const bad =
            FORBIDDEN_PREFIXES.find((p) => word.startsWith(p) && !word.startsWith("console")) ??
            FORBIDDEN_WORDS.find((w) => word === w);
          expect(bad).toBeUndefined();
          expect(kernelArgProblem(word)).toBeUndefined();
        }
      }),
      { numRuns: 10_000 },
    );
  });
});

describe("serial", () => {
  test.each([
    ["tty:/dev/../etc/shadow", /under \/dev\/ with no "\." or "\.\."/],
    ["tty:/etc/shadow", /under \/dev\//],
    ["tty:/dev/./ttyS0", /no "\." or "\.\."/],
    ["tty:/dev/pts/../../etc/passwd", /under \/dev\//],
    ["port:9000", /TCP port on the host/],
    ["fd:3", /umlab's own|fds are umlab's/],
  ])("%s is refused, saying why", (line, why) => {
    const r = reasons({ serial: ["pts", line] });
    expect(r.length).toBe(1);
    expect(r[0]).toMatch(/^serial\[1\]: /);
    expect(r[0]).toMatch(why);
  });

  test.each(["pts", "pty", "null", "tty:/dev/ttyS0", "tty:/dev/pts/3", "cable:/l/ser/c1.a"])(
    "%s is accepted",
    (line) => expect(check({ serial: [line] }).ok).toBe(true),
  );
});
