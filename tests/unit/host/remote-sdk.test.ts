// The SDK side of hosts: a lab's host reaches every component's inputs (and nothing changes
// for a lab without one), `lab.on(host)` is one part per host, and a guest cannot take a NIC
// on a switch of another host (a HostLink joins hosts).
import * as pulumi from "@pulumi/pulumi";

const registered: { type: string; name: string; inputs: any }[] = [];
pulumi.runtime.setMocks(
  {
    newResource: (a) => {
      registered.push({ type: a.type, name: a.name, inputs: a.inputs });
      return { id: `${a.name}-id`, state: { ...a.inputs, dir: `/r/${a.name}`, control: `/c/${a.name}` } };
    },
    call: (a) => a.inputs,
  },
  "project",
  "stack",
  false,
);

const hostB = { name: "host-b", address: "192.0.2.2", runtimeRoot: "/var/tmp/ub", cache: "/var/cache/ub" };

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
}

test("a lab without a host: no host in any input (unchanged); a part on host B carries it", async () => {
  const umlab = await import("../../../sdk");
  const lab = new umlab.Lab("lab", { runtimeRoot: "/tmp/rt" });
  const local = new umlab.Switch("swl", { lab });
  const labB = lab.on(hostB);
  expect(lab.on({ ...hostB })).toBe(labB);
  const remote = new umlab.Switch("swr", { lab: labB, engine: "vde" });
  await settle();
  const byName = (n: string) => registered.find((r) => r.name === n)!.inputs;
  expect("host" in byName("swl")).toBe(false);
  expect("host" in byName("lab-runtime")).toBe(false);
  expect(byName("swr").host).toMatchObject({ name: "host-b", user: "root", port: 22 });
  expect(byName("lab-on-host-b-runtime")).toMatchObject({ root: "/var/tmp/ub", host: { name: "host-b" } });
  expect(local.umlabHostName).toBeUndefined();
  expect(remote.umlabHostName).toBe("host-b");
});

test("a guest on host B cannot plug into a switch here; a HostLink's switch A must be its lab's", async () => {
  const umlab = await import("../../../sdk");
  const lab = new umlab.Lab("lab2", { runtimeRoot: "/tmp/rt" });
  const here = new umlab.Switch("sw-here", { lab, engine: "vde" });
  const labB = lab.on(hostB);
  const there = new umlab.Switch("sw-there", { lab: labB, engine: "vde" });
  expect(
    () => new umlab.Guest("g", { lab: labB, disks: [{ path: "/d.img" }], nics: [{ switch: here }] }),
  ).toThrow(/Guest "g": nics\[0\]\.switch runs on this machine, the guest on host "host-b".*HostLink/);
  expect(() => new umlab.HostLink("ab", { lab: labB, a: here, b: there, peer: hostB })).toThrow(
    /HostLink "ab": a \(switch A\) runs on this machine/,
  );
  expect(() => new umlab.HostLink("ok", { lab, a: here, b: there, peer: hostB })).not.toThrow();
});

test("a bad host is refused when the lab is made, naming the field", async () => {
  const umlab = await import("../../../sdk");
  expect(() => new umlab.Lab("bad", { host: { ...hostB, address: "-oProxyCommand=sh" } })).toThrow(
    /host\.address: use a host name or an IP address/,
  );
});
