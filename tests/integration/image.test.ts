// Images on real UML guests: build the busybox and Debian+FRR images, boot each directly
// with linux.uml over a COW file (the image is never written), and check the guest side of
// the contract (docs/guest-contract.md) through the guest folder's state/ files.
// All traffic stays between the guests on a unix-socket uml_switch.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildImage } from "../../provider/image/build";
import { resolveSpec } from "../../provider/image/host";
import { sha256File } from "../../provider/image/cache";
import type { ImageOutputs } from "../../provider/image/plan";
import { spawnDetached, stopGroup, waitFor } from "../../provider/host/process";

const FRR_PACKAGES = ["frr", "iproute2", "iputils-ping", "procps", "tcpdump"];

let tmp: string;
let cacheDir: string;
const groups: number[] = [];
const images: { out: ImageOutputs; sha256: string }[] = [];

function readState(guestDir: string, file: string): string {
  return fs.readFileSync(path.join(guestDir, "state", file), "utf8");
}

function tail(p: string, n = 30): string {
  try {
    return fs.readFileSync(p, "utf8").split("\n").slice(-n).join("\n");
  } catch {
    return "(none)";
  }
}

interface GuestFolder {
  config: string[];
  files?: Record<string, string>;
  startup?: string;
}

function makeGuestFolder(name: string, g: GuestFolder): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, "state"), { recursive: true });
  fs.writeFileSync(path.join(dir, "config"), g.config.join("\n") + "\n");
  for (const [rel, content] of Object.entries(g.files ?? {})) {
    const p = path.join(dir, "files", rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  if (g.startup !== undefined) fs.writeFileSync(path.join(dir, "startup"), g.startup);
  return dir;
}

/** Boot a guest over a fresh COW file; resolve with the uptime it reported in state/ready. */
async function boot(
  name: string,
  image: string,
  guestDir: string,
  extra: string[],
  mem = "64M",
): Promise<number> {
  const console = path.join(tmp, `${name}.console`);
  const pgid = spawnDetached(
    "linux.uml",
    [
      `ubd0=${path.join(tmp, `${name}.cow`)},${image}`,
      `umid=${name}`,
      `uml_dir=${path.join(tmp, "uml")}`,
      `mem=${mem}`,
      "con0=fd:0,fd:1",
      "con=null",
      "ssl=null",
      ...extra,
      "init=/sbin/umlab-init",
      `umlab.dir=${guestDir}`,
    ],
    { logFile: console, cwd: tmp },
  );
  groups.push(pgid);
  const ready = await waitFor(() => fs.existsSync(path.join(guestDir, "state", "ready")), 180_000, 200);
  if (!ready) {
    throw new Error(
      `guest ${name} not ready\n--- console ---\n${tail(console)}\n--- init.log ---\n${tail(path.join(guestDir, "state", "init.log"))}`,
    );
  }
  return Number(readState(guestDir, "ready").trim());
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uit-"));
  cacheDir = path.join(tmp, "cache");
  fs.mkdirSync(path.join(tmp, "uml"));
});

afterAll(async () => {
  for (const g of groups) await stopGroup(g);
  try {
    // The backing images must be byte-identical after the guests ran.
    for (const { out, sha256 } of images) expect(await sha256File(out.path)).toBe(sha256);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

describe("Image on real UML guests", () => {
  let busybox: ImageOutputs;
  let debian: ImageOutputs;
  let switchCtl: string;

  beforeAll(async () => {
    switchCtl = path.join(tmp, "sw.ctl");
    groups.push(spawnDetached("uml_switch", ["-unix", switchCtl], { logFile: path.join(tmp, "switch.log") }));
    await waitFor(() => fs.existsSync(switchCtl), 10_000);
  });

  test("the busybox image builds in seconds, small, with the kernel modules", async () => {
    const t0 = Date.now();
    busybox = await buildImage(resolveSpec({ preset: "busybox", cacheDir }));
    console.log(
      `busybox image: ${Date.now() - t0} ms, ${busybox.sizeBytes} bytes apparent, ${busybox.allocatedBytes} allocated`,
    );
    images.push({ out: busybox, sha256: busybox.sha256 });
    expect(busybox.path).toBe(path.join(cacheDir, "images", `${busybox.key}.img`));
    expect(busybox.sha256).toBe(await sha256File(busybox.path));
    expect(busybox.allocatedBytes).toBeLessThan(32 * 1024 * 1024);
    expect(busybox.kernelVersion).toMatch(/^\d+\.\d+/);
  });

  test("building the same spec twice builds nothing the second time", async () => {
    const before = fs.statSync(busybox.path);
    const logs: string[] = [];
    const again = await buildImage(resolveSpec({ preset: "busybox", cacheDir }), (m) => logs.push(m));
    expect(again).toEqual(busybox);
    expect(logs.join("\n")).toMatch(/cached/);
    expect(logs.join("\n")).not.toMatch(/building/);
    const after = fs.statSync(busybox.path);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(fs.readdirSync(path.join(cacheDir, "images")).filter((e) => e.startsWith(".tmp-"))).toEqual([]);
  });

  test("the cache folder is 0700; a truncated or replaced cached image is detected and rebuilt", async () => {
    expect(fs.statSync(path.join(cacheDir, "images")).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(`${busybox.path}.sha256`, "utf8")).toMatch(
      new RegExp(`^${busybox.sha256} ${busybox.sizeBytes} \\d+ \\d+\n$`),
    );
    // In a cache of its own: the images checked at the end stay as built.
    const ownCache = path.join(tmp, "cache-damaged");
    const first = await buildImage(resolveSpec({ preset: "busybox", cacheDir: ownCache }));
    fs.chmodSync(first.path, 0o644);
    fs.truncateSync(first.path, 4096);
    const logs: string[] = [];
    const rebuilt = await buildImage(resolveSpec({ preset: "busybox", cacheDir: ownCache }), (m) =>
      logs.push(m),
    );
    expect(logs.join("\n")).toMatch(/is damaged \(its size is 4096 bytes, \d+ were published/);
    expect(rebuilt.sizeBytes).toBe(first.sizeBytes);
    expect(rebuilt.sha256).toBe(await sha256File(rebuilt.path));
    // Replaced by another file of the same size: the stat differs, the hash catches it.
    const other = path.join(ownCache, "other.bin");
    fs.writeFileSync(other, Buffer.alloc(rebuilt.sizeBytes, 1));
    fs.renameSync(other, rebuilt.path);
    const logs2: string[] = [];
    const again = await buildImage(resolveSpec({ preset: "busybox", cacheDir: ownCache }), (m) =>
      logs2.push(m),
    );
    expect(logs2.join("\n")).toMatch(/is damaged \(its sha256 is/);
    expect(again.sha256).toBe(await sha256File(again.path));
  }, 300_000);

  test("a busybox guest applies the contract: hostname, addresses, sysctl, files, startup, ready", async () => {
    const dir = makeGuestFolder("bb1", {
      config: [
        "hostname bb1",
        "module sch_netem",
        "addr eth0 10.77.0.1/24",
        "addr dummy0 10.78.0.1/32",
        "link dummy1 mtu 1400",
        "route 10.79.0.0/16 via 10.77.0.2",
        "sysctl net.ipv4.ip_forward 1",
      ],
      files: { "etc/umlab-test": "from the host\n" },
      startup: [
        "hostname > /umlab/state/hostname",
        "ip -4 addr show > /umlab/state/addrs",
        "ip route > /umlab/state/routes",
        "cat /sys/class/net/dummy1/mtu > /umlab/state/dummy1-mtu",
        "cat /proc/sys/net/ipv4/ip_forward > /umlab/state/forward",
        "cat /etc/umlab-test > /umlab/state/file",
        "lsmod > /umlab/state/lsmod",
        "echo startup ran",
        "",
      ].join("\n"),
    });
    const uptime = await boot("bb1", busybox.path, dir, [`eth0=daemon,,unix,${switchCtl}`]);
    console.log(`busybox guest ready at ${uptime} s uptime`);
    expect(readState(dir, "hostname").trim()).toBe("bb1");
    expect(readState(dir, "addrs")).toMatch(/inet 10\.77\.0\.1\/24 .*eth0/);
    expect(readState(dir, "addrs")).toMatch(/inet 10\.78\.0\.1\/32 .*dummy0/);
    expect(readState(dir, "routes")).toMatch(/10\.79\.0\.0\/16 via 10\.77\.0\.2/);
    expect(readState(dir, "dummy1-mtu").trim()).toBe("1400");
    expect(readState(dir, "forward").trim()).toBe("1");
    expect(readState(dir, "file")).toBe("from the host\n");
    expect(readState(dir, "lsmod")).toMatch(/sch_netem/);
    expect(readState(dir, "startup.log")).toMatch(/startup ran/);
    expect(readState(dir, "startup.rc").trim()).toBe("0");
    expect(readState(dir, "init.log")).not.toMatch(/error:/);
    expect(uptime).toBeGreaterThan(0);
  });

  test("the Debian+FRR image builds, and a guest runs FRR, netem and reaches the busybox guest", async () => {
    const t0 = Date.now();
    const logs: string[] = [];
    debian = await buildImage(resolveSpec({ preset: "debian", packages: FRR_PACKAGES, cacheDir }), (m) =>
      logs.push(m),
    );
    console.log(
      `debian+frr image: ${Date.now() - t0} ms, ${debian.sizeBytes} bytes apparent, ${debian.allocatedBytes} allocated`,
    );
    images.push({ out: debian, sha256: debian.sha256 });
    expect(logs.some((l) => l.startsWith("mmdebstrap"))).toBe(true);

    const dir = makeGuestFolder("deb1", {
      config: [
        "hostname deb1",
        "module dummy",
        "addr eth0 10.77.0.2/24",
        "addr dummy0 10.78.0.2/32",
        "sysctl net.ipv4.ip_forward 1",
      ],
      files: { "etc/umlab-test": "debian file\n" },
      startup: [
        "set -e",
        "hostname > /umlab/state/hostname",
        "ip -4 -o addr show > /umlab/state/addrs",
        "cat /proc/sys/net/ipv4/ip_forward > /umlab/state/forward",
        "cat /etc/umlab-test > /umlab/state/file",
        "modprobe sch_netem && tc qdisc add dev dummy0 root netem delay 1ms && tc qdisc show dev dummy0 > /umlab/state/qdisc",
        "test -x /usr/lib/frr/zebra && echo frr-present > /umlab/state/frr",
        "ping -c 5 -i 0.5 -W 2 10.77.0.1 > /umlab/state/ping || true",
        "",
      ].join("\n"),
    });
    const uptime = await boot("deb1", debian.path, dir, [`eth0=daemon,,unix,${switchCtl}`], "128M");
    console.log(`debian guest ready at ${uptime} s uptime`);
    expect(readState(dir, "hostname").trim()).toBe("deb1");
    expect(readState(dir, "addrs")).toMatch(/eth0\s+inet 10\.77\.0\.2\/24/);
    expect(readState(dir, "addrs")).toMatch(/dummy0\s+inet 10\.78\.0\.2\/32/);
    expect(readState(dir, "forward").trim()).toBe("1");
    expect(readState(dir, "file")).toBe("debian file\n");
    expect(readState(dir, "qdisc")).toMatch(/netem/);
    expect(readState(dir, "frr").trim()).toBe("frr-present");
    expect(readState(dir, "ping")).toMatch(/[1-5] received/);
    expect(readState(dir, "startup.rc").trim()).toBe("0");
    expect(readState(dir, "init.log")).not.toMatch(/error:/);
  });

  test("a second Debian build of the same spec is a cache hit", async () => {
    const t0 = Date.now();
    const again = await buildImage(
      resolveSpec({ preset: "debian", packages: [...FRR_PACKAGES].reverse(), cacheDir }),
    );
    console.log(`debian+frr cached: ${Date.now() - t0} ms`);
    expect(again.path).toBe(debian.path);
    expect(again.sha256).toBe(debian.sha256);
  });
});

describe("Image build failures", () => {
  function leftovers(): string[] {
    const dir = path.join(cacheDir, "images");
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((e) => e.startsWith(".tmp-")) : [];
  }
  function imageFiles(): string[] {
    const dir = path.join(cacheDir, "images");
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((e) => e.endsWith(".img")) : [];
  }

  test("an unknown package names the field and the fix, leaving nothing behind", async () => {
    const before = imageFiles();
    const spec = resolveSpec({ preset: "debian", packages: ["umlab-no-such-package"], cacheDir });
    await expect(buildImage(spec)).rejects.toThrow(
      /packages: "umlab-no-such-package" not found in \S+ at \S+; fix the name/,
    );
    expect(imageFiles()).toEqual(before);
    expect(leftovers()).toEqual([]);
  });

  test("a suite the mirror lacks names the suite field", async () => {
    const spec = resolveSpec({ preset: "debian", suite: "umlab-no-such-suite", cacheDir });
    await expect(buildImage(spec)).rejects.toThrow(/suite: "umlab-no-such-suite" is not available/);
    expect(leftovers()).toEqual([]);
  });

  test("an image too small for its files names sizeMb and shows mke2fs's last lines", async () => {
    const before = imageFiles();
    const spec = resolveSpec({ preset: "busybox", sizeMb: 8, cacheDir });
    await expect(buildImage(spec)).rejects.toThrow(/sizeMb: 8 MiB is too small[\s\S]*last lines of mke2fs/);
    expect(imageFiles()).toEqual(before);
    expect(leftovers()).toEqual([]);
  });

  test("an unknown kernel module names the modules field", async () => {
    const spec = resolveSpec({ preset: "busybox", modules: ["dummy", "umlab_nosuch"], cacheDir });
    await expect(buildImage(spec)).rejects.toThrow(/modules: unknown kernel module\(s\): umlab_nosuch/);
    expect(leftovers()).toEqual([]);
  });
});
