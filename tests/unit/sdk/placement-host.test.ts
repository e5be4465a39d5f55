// The SDK side of placement: a Lab takes the stack config `umlab:host` (what `umlab class up
// --hosts` sets) as its default host, an explicit `host` wins, and each check names the host
// of its guest (provider/exec/checks.ts sends each host's checks there).
import * as pulumi from "@pulumi/pulumi";

const registered: { name: string; inputs: any }[] = [];
pulumi.runtime.setMocks(
  {
    newResource: (a) => {
      registered.push({ name: a.name, inputs: a.inputs });
      return { id: `${a.name}-id`, state: { ...a.inputs, dir: `/r/${a.name}`, guestDir: `/g/${a.name}` } };
    },
    call: (a) => a.inputs,
  },
  "project",
  "stack",
  false,
);

const hostA = { name: "host-a", address: "192.0.2.1", runtimeRoot: "/var/tmp/ua", cache: "/var/cache/ua" };
const hostB = { name: "host-b", address: "192.0.2.2", runtimeRoot: "/var/tmp/ub", cache: "/var/cache/ub" };
const inputs = (n: string) => registered.find((r) => r.name === n)!.inputs;
const settle = () => new Promise((r) => setTimeout(r, 50));

test("each check names its guest's host (the Checks provider sends it there); the Checks itself runs here", async () => {
  const umlab = await import("../../../sdk");
  const lab = new umlab.Lab("l", { runtimeRoot: "/tmp/rt" });
  const labB = lab.on(hostB);
  const guest = (n: string, l: InstanceType<typeof umlab.Lab>) =>
    new umlab.Guest(n, { lab: l, disks: [{ path: `/d/${n}.img` }], nics: [] });
  const b1 = guest("b1", labB);
  const b2 = guest("b2", labB);
  const h1 = guest("h1", lab);
  new umlab.Checks("onB", { checks: [umlab.check.ping(b1, "10.0.0.2"), umlab.check.ping(b2, "10.0.0.1")] });
  new umlab.Checks("mixed", { checks: [umlab.check.ping(b1, "10.0.0.2"), umlab.check.ping(h1, "10.0.0.1")] });
  new umlab.Checks("here", { checks: [umlab.check.ping(h1, "10.0.0.2")] });
  await settle();
  const hostsOf = (n: string) => (inputs(n).checks as { host?: { name: string } }[]).map((c) => c.host?.name);
  expect(hostsOf("onB")).toEqual(["host-b", "host-b"]);
  expect(hostsOf("mixed")).toEqual(["host-b", undefined]);
  expect(hostsOf("here")).toEqual([undefined]);
  for (const n of ["onB", "mixed", "here"]) expect("host" in inputs(n)).toBe(false);
});

test("umlab:host is the Lab's default host; an explicit host wins; a bad one names the field", async () => {
  const umlab = await import("../../../sdk");
  // Last in the file: the config stays set.
  pulumi.runtime.setConfig("umlab:host", JSON.stringify(hostA));
  {
    const lab = new umlab.Lab("cfg");
    expect(lab.host).toMatchObject({ name: "host-a", user: "root", port: 22 });
    expect(new umlab.Lab("given", { host: hostB }).host?.name).toBe("host-b");
    await settle();
    expect(inputs("cfg-runtime")).toMatchObject({ root: "/var/tmp/ua", host: { name: "host-a" } });
    // A guest of that lab runs there, and so do its checks.
    const g = new umlab.Guest("cfg-g", { lab, disks: [{ path: "/d/g.img" }], nics: [] });
    new umlab.Checks("cfg-checks", { checks: [umlab.check.ping(g, "10.0.0.2")] });
    await settle();
    expect(inputs("cfg-g").host).toMatchObject({ name: "host-a" });
    expect(inputs("cfg-checks").checks[0].host).toMatchObject({ name: "host-a" });
    pulumi.runtime.setConfig("umlab:host", JSON.stringify({ ...hostA, address: "-oProxyCommand=sh" }));
    expect(() => new umlab.Lab("bad")).toThrow(/host\.address/);
  }
});
