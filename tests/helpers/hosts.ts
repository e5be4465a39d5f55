// Simulated hosts for multi-host tests: each is a network namespace made by the test, running
// its own sshd (a host key and a client key made in the test's scratch dir) that listens only
// on 127.0.0.1 inside that namespace; ssh reaches it with ProxyCommand `ip netns exec <ns> nc
// 127.0.0.1 22`, so no traffic leaves the namespaces the test made. Hosts 0 and 1 are joined
// by a veth pair with addresses in 192.0.2.0/24 (a documentation range), for tunnels.
// The namespaces share this machine's files, so umlab, the UML kernel and the switch tools are
// "installed" on every host; each host has its own runtime root and image cache.
import * as child_process from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { HostInput } from "../../provider/host/remote-argv";

export interface SimHost {
  /** Its Host (sdk Lab `host` / `lab.on(host)`). */
  host: HostInput & { runtimeRoot: string; cache: string; knownHosts: string; privateKey: string };
  netns: string;
  /** Its address on the veth between hosts 0 and 1 (192.0.2.x). */
  tunnelAddress?: string;
  /** Its end of that veth (in its namespace). */
  tunnelDevice?: string;
  sshdPid: number;
}

export interface SimHosts {
  hosts: SimHost[];
  scratch: string;
  /** Run argv inside a host's namespace (as this machine's root: the test's own view). */
  inNetns(h: SimHost, argv: string[], timeoutMs?: number): { code: number; out: string };
  /** Stop every sshd, delete the namespaces (their veths go with them), remove the files. */
  teardown(): void;
}

function sh(cmd: string, args: string[], timeoutMs = 30_000): { code: number; out: string } {
  const r = child_process.spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs });
  return { code: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

function must(cmd: string, args: string[]): string {
  const r = sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.out}`);
  return r.out;
}

/** Why simulated hosts cannot run here (missing tools), or undefined. */
export function simHostsMissing(): string | undefined {
  for (const [bin, pkg] of [
    ["/usr/sbin/sshd", "openssh-server"],
    ["/usr/bin/ssh", "openssh-client"],
    ["/usr/bin/ssh-keygen", "openssh-client"],
    ["/usr/bin/nc", "netcat-openbsd"],
  ])
    if (!fs.existsSync(bin))
      return `${bin} is missing: apt-get install -y ${pkg} (tests of several hosts run their own sshd in a namespace)`;
  return undefined;
}

function waitSync(pred: () => boolean, ms: number): boolean {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  return pred();
}

/**
 * `count` simulated hosts named `<prefix>-<id>-a|b|c`. Whatever fails half-way is torn down
 * before the error is thrown.
 */
export function simHosts(prefix: string, count = 2): SimHosts {
  const missing = simHostsMissing();
  if (missing) throw new Error(missing);
  const id = crypto.randomBytes(3).toString("hex");
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-hosts-`));
  const made: { netns: string[]; pids: number[]; roots: string[] } = { netns: [], pids: [], roots: [] };
  const hosts: SimHost[] = [];

  const teardown = () => {
    for (const pid of made.pids)
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        /* gone */
      }
    for (const ns of made.netns) sh("ip", ["netns", "del", ns]);
    for (const r of made.roots) fs.rmSync(r, { recursive: true, force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  };

  try {
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege-separation dir
    const clientKey = path.join(scratch, "client_ed25519");
    must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${prefix}-client`, "-f", clientKey]);
    const authorized = path.join(scratch, "authorized_keys");
    fs.copyFileSync(`${clientKey}.pub`, authorized);
    const knownHosts = path.join(scratch, "known_hosts");
    fs.writeFileSync(knownHosts, "");

    const nets: string[] = [];
    const tunnel: string[] = [];
    const devices: string[] = [];
    for (let i = 0; i < count; i++) {
      const netns = `${prefix}-${id}-${"abc"[i]}`;
      must("ip", ["netns", "add", netns]);
      made.netns.push(netns);
      nets.push(netns);
      must("ip", ["-n", netns, "link", "set", "lo", "up"]);
    }
    if (count >= 2) {
      const [a, b] = nets.map((netns) => ({ netns }));
      const va = `${prefix.slice(0, 5)}${id}a`;
      const vb = `${prefix.slice(0, 5)}${id}b`;
      must("ip", ["link", "add", va, "netns", a.netns, "type", "veth", "peer", "name", vb, "netns", b.netns]);
      must("ip", ["-n", a.netns, "addr", "add", "192.0.2.1/24", "dev", va]);
      must("ip", ["-n", b.netns, "addr", "add", "192.0.2.2/24", "dev", vb]);
      must("ip", ["-n", a.netns, "link", "set", va, "up"]);
      must("ip", ["-n", b.netns, "link", "set", vb, "up"]);
      tunnel.push("192.0.2.1", "192.0.2.2");
      devices.push(va, vb);
    }
    for (let i = 0; i < count; i++) {
      const letter = "abc"[i];
      const netns = nets[i];
      const dir = path.join(scratch, letter);
      fs.mkdirSync(dir);
      const hostKey = path.join(dir, "host_ed25519");
      must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", netns, "-f", hostKey]);
      const address = `192.0.2.${i + 1}`;
      // The host key for the name ssh is given (the address; ProxyCommand does the reaching).
      fs.appendFileSync(knownHosts, `${address} ${fs.readFileSync(`${hostKey}.pub`, "utf8")}`);
      const config = path.join(dir, "sshd_config");
      fs.writeFileSync(
        config,
        [
          "ListenAddress 127.0.0.1:22",
          // Its end of the veth (hosts a and b): how the other host reaches it, for links.
          ...(tunnel[i] ? [`ListenAddress ${tunnel[i]}:22`] : []),
          `HostKey ${hostKey}`,
          `AuthorizedKeysFile ${authorized}`,
          `PidFile ${path.join(dir, "sshd.pid")}`,
          "PermitRootLogin prohibit-password",
          "PasswordAuthentication no",
          "KbdInteractiveAuthentication no",
          "UsePAM no",
          "StrictModes no",
          "X11Forwarding no",
          "AllowTcpForwarding no",
          "PrintMotd no",
          "",
        ].join("\n"),
      );
      const log = fs.openSync(path.join(dir, "sshd.log"), "a");
      const child = child_process.spawn(
        "ip",
        ["netns", "exec", netns, "/usr/sbin/sshd", "-D", "-e", "-f", config],
        {
          stdio: ["ignore", log, log],
          detached: true,
        },
      );
      fs.closeSync(log);
      child.unref();
      if (child.pid === undefined) throw new Error(`could not start sshd in ${netns}`);
      made.pids.push(child.pid);
      const up = waitSync(
        () => sh("ip", ["netns", "exec", netns, "nc", "-z", "127.0.0.1", "22"]).code === 0,
        10_000,
      );
      if (!up)
        throw new Error(
          `sshd in ${netns} did not listen: ${fs.readFileSync(path.join(dir, "sshd.log"), "utf8")}`,
        );
      const runtimeRoot = fs.mkdtempSync(`/tmp/${prefix}${letter}-`);
      made.roots.push(runtimeRoot);
      const cache = path.join(runtimeRoot, "cache");
      hosts.push({
        netns,
        sshdPid: child.pid,
        tunnelAddress: tunnel[i],
        tunnelDevice: devices[i],
        host: {
          name: `host-${letter}`,
          address,
          user: "root",
          port: 22,
          privateKey: clientKey,
          knownHosts,
          proxyCommand: ["ip", "netns", "exec", netns, "nc", "127.0.0.1", "22"],
          runtimeRoot: path.join(runtimeRoot, "run"),
          cache,
          node: process.execPath,
        },
      });
    }
  } catch (e) {
    teardown();
    throw e;
  }

  return {
    hosts,
    scratch,
    inNetns: (h, argv, timeoutMs) => sh("ip", ["netns", "exec", h.netns, ...argv], timeoutMs),
    teardown,
  };
}

/** Host `h` as the other host reaches it: over the veth, no proxy (for links between hosts). */
export function overTunnel(h: SimHost): HostInput {
  if (!h.tunnelAddress) throw new Error(`${h.netns} has no veth end (only hosts a and b do)`);
  const { proxyCommand: _p, ...rest } = h.host;
  return { ...rest, address: h.tunnelAddress };
}

/** Files and directories left under a simulated host's runtime root (the root itself stays, by design). */
export function leftUnder(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).map((f) => path.join(root, f));
}

/** A process runs in a simulated host's network namespace (same inode as /run/netns/<ns>). */
export function inNamespaceOf(pid: number, h: SimHost): boolean {
  return fs.readlinkSync(`/proc/${pid}/ns/net`) === `net:[${fs.statSync(`/run/netns/${h.netns}`).ino}]`;
}
