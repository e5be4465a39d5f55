// Two machines, one lab. Host B is prepared with @pulumi/command's remote.Command (over the
// same connection umlab uses): its runtime root (0700) and image cache are made, and the
// packages umlab needs there are checked (not installed: the program names what is missing
// and stops). Then a switch and a busybox guest run on host B (after the preparation), a
// switch and a guest here, and a HostLink (a VDE cable over ssh) joins the two switches:
// g1 (10.0.0.1, here) and g2 (10.0.0.2, on B) share one Ethernet. Walkthrough: README.md.
//
//   pulumi config set address 192.0.2.2               # host B (name or address)
//   pulumi config set keyFile ~/.ssh/umlab_ed25519    # your key, in B's authorized_keys
//   pulumi config set knownHosts ~/.ssh/known_hosts   # holds B's host key (ssh-keyscan)
//   pulumi up
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as umlab from "../../sdk";

const config = new pulumi.Config();
const address = config.require("address");
const keyFile = config.require("keyFile");
const knownHosts = config.require("knownHosts");
const runtimeRoot = config.get("runtimeRoot") ?? "/var/tmp/umlab";
const cache = config.get("cache") ?? "/var/cache/umlab";

/** B's host key (`type base64`) from the known_hosts umlab uses, for remote.Command's hostKey. */
export function hostKeyOf(knownHostsText: string, host: string, port = 22): string | undefined {
  const name = port === 22 ? host : `[${host}]:${port}`;
  for (const line of knownHostsText.split("\n")) {
    const [hosts, type, key] = line.trim().split(/\s+/);
    if (!hosts || hosts.startsWith("#") || !key) continue;
    if (hosts.split(",").includes(name)) return `${type} ${key}`;
  }
  return undefined;
}
const hostKey = config.get("hostKey") ?? hostKeyOf(fs.readFileSync(knownHosts, "utf8"), address);
if (!hostKey)
  throw new Error(
    `config knownHosts: ${knownHosts} has no plain entry for ${address} (hashed entries cannot be read): ` +
      `add one (ssh-keyscan -t ed25519 ${address} >> ${knownHosts}, then check it) or set config hostKey`,
  );

/** One connection for both: remote.Command uses the key's contents and hostKey... */
const connection = {
  host: address,
  port: config.getNumber("port") ?? 22,
  user: config.get("user") ?? "root",
  privateKey: fs.readFileSync(keyFile, "utf8"),
  hostKey,
};
/** ...and umlab's ssh the key file and known_hosts beside it. */
const hostB: umlab.Host = {
  name: "hostb",
  connection,
  privateKey: keyFile,
  knownHosts,
  runtimeRoot,
  cache,
  ...(config.get("node") ? { node: config.get("node") } : {}),
};

// Host preparation: what B needs before any of the lab runs there. Idempotent; re-run when the
// list changes (triggers). Nothing is removed on destroy: the root and cache stay for next time.
const packages = config.getObject<string[]>("packages") ?? [
  "user-mode-linux",
  "vde2",
  "iproute2",
  "e2fsprogs",
  "openssh-server",
];
for (const p of packages)
  if (!/^[a-z0-9][a-z0-9.+-]*$/.test(p))
    throw new Error(`config packages: ${JSON.stringify(p)} is not a Debian package name`);
const prepare = new command.remote.Command("prepare-hostb", {
  connection,
  create: [
    "set -e",
    'install -d -m 0700 "$RUNTIME_ROOT"',
    'install -d -m 0700 "$CACHE"',
    'missing=""',
    "for p in $PACKAGES; do",
    "  dpkg-query -W -f='${Status}' \"$p\" 2>/dev/null | grep -q 'ok installed' || missing=\"$missing $p\"",
    "done",
    'if [ -n "$missing" ]; then echo "host B lacks:$missing (apt-get install -y$missing)" >&2; exit 1; fi',
    'if [ ! -f "$UMLAB/dist/provider/remote-main.js" ]; then echo "host B has no umlab at $UMLAB (install it at the same path, or set the host\'s umlab)" >&2; exit 1; fi',
    'echo "ready: $(uname -n) $(stat -c %a "$RUNTIME_ROOT") $RUNTIME_ROOT"',
  ].join("\n"),
  environment: {
    RUNTIME_ROOT: runtimeRoot,
    CACHE: cache,
    PACKAGES: packages.join(" "),
    UMLAB: path.resolve(__dirname, "../.."), // umlab here; host B has it at the same path
  },
  triggers: [runtimeRoot, cache, ...packages],
});
const afterPrep = { dependsOn: [prepare] };

const lab = new umlab.Lab("lab");
const labB = lab.on(hostB);
const image = new umlab.Image("busybox", { preset: "busybox" }); // built here, copied to B's cache
const side = (l: umlab.Lab, n: number, opts?: pulumi.CustomResourceOptions) => {
  const sw = new umlab.Switch(`sw${n}`, { lab: l, engine: "vde" }, opts);
  const disk = new umlab.CowDisk(
    `g${n}-root`,
    { lab: l, backing: image.path, backingVersion: image.sha256 },
    opts,
  );
  const guest = new umlab.Guest(
    `g${n}`,
    { lab: l, disks: [disk], nics: [{ switch: sw, addresses: [`10.0.0.${n}/24`] }] },
    opts,
  );
  return { sw, guest };
};
const here = side(lab, 1);
const there = side(labB, 2, afterPrep);
new umlab.HostLink("ab", { lab, a: here.sw, b: there.sw, peer: hostB }, afterPrep);

export const prepared = prepare.stdout;
export const guests = [here.guest, there.guest].map((g) =>
  pulumi.all([g.name, g.pid, g.guestDir]).apply(([name, pid, guestDir]) => ({ name, pid, guestDir })),
);
export const labDirs = { here: lab.dir, hostb: labB.dir };
