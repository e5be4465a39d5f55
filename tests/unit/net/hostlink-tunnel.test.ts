// The vxlan HostLink mechanism's pure parts (provider/net/tunnel.ts): device names fit IFNAMSIZ
// and differ between labs and links, the VNI is in range and the same for both ends, the `ip`
// argv carries MTU 1450 and only checked words, bad addresses are refused naming the field, and
// every field has a change policy.
import {
  tunnelCommands,
  tunnelDevices,
  tunnelEndPolicy,
  tunnelEndSchema,
  tunnelVni,
  VXLAN_MTU,
} from "../../../provider/net/tunnel";
import { validate } from "../../../provider/core/schemas/fields";

const inputs = {
  labDir: "/r/lab",
  name: "vx",
  control: "/r/lab/sw/swa.ctl",
  vni: 4242,
  local: "192.0.2.1",
  remote: "192.0.2.2",
};

test("device names: <= 15 chars, one family per (lab, link), no collision across labs or links", () => {
  const seen = new Set<string>();
  for (const lab of ["/r/lab1", "/r/lab2", "/other/lab1"])
    for (const link of ["vx", "vx2", "a-very-long-link-name-indeed"]) {
      const d = tunnelDevices(lab, link);
      for (const n of Object.values(d)) {
        expect(n.length).toBeLessThanOrEqual(15);
        expect(n).toMatch(/^uv[0-9a-f]{10}[xtb]$/);
        expect(seen.has(n)).toBe(false);
        seen.add(n);
      }
    }
  expect(tunnelDevices("/r/lab1", "vx")).toEqual(tunnelDevices("/r/lab1", "vx"));
});

test("the VNI: 1..2^24-1, stable, differs between links", () => {
  const vnis = ["lab1/vx", "lab1/vy", "lab2/vx"].map(tunnelVni);
  for (const v of vnis) {
    expect(v).toBeGreaterThanOrEqual(1);
    expect(v).toBeLessThan(2 ** 24);
  }
  expect(new Set(vnis).size).toBe(3);
  expect(tunnelVni("lab1/vx")).toBe(vnis[0]);
});

test("the ip argv: a bridge and a vxlan at MTU 1450, the given VNI/addresses/port; suspended leaves vxlan down", () => {
  const r = validate(tunnelEndSchema(), inputs);
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  const d = tunnelDevices(inputs.labDir, inputs.name);
  const cmds = tunnelCommands(r.value);
  expect(cmds[0]).toEqual(["link", "add", d.bridge, "mtu", String(VXLAN_MTU), "type", "bridge"]);
  expect(cmds[1]).toEqual([
    "link",
    "add",
    d.vxlan,
    "mtu",
    "1450",
    "type",
    "vxlan",
    "id",
    "4242",
    "local",
    "192.0.2.1",
    "remote",
    "192.0.2.2",
    "dstport",
    "4789",
  ]);
  expect(cmds).toContainEqual(["link", "set", d.vxlan, "up"]);
  const s = validate(tunnelEndSchema(), { ...inputs, suspended: true });
  expect(s.ok && tunnelCommands(s.value)).not.toContainEqual(["link", "set", d.vxlan, "up"]);
});

test("bad addresses, VNIs and ports are refused, naming the field", () => {
  for (const [field, value] of [
    ["local", "-dev eth0"],
    ["remote", "192.0.2.300"],
    ["remote", "example.org"],
    ["vni", 0],
    ["vni", 2 ** 24],
    ["port", 70000],
  ] as [string, unknown][]) {
    const r = validate(tunnelEndSchema(), { ...inputs, [field]: value });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.failures.map((f) => f.property)).toContain(field);
  }
});

test("every input has a change policy", () => {
  const fields = Object.keys(tunnelEndSchema().shape).sort();
  expect(Object.keys(tunnelEndPolicy).sort()).toEqual(fields);
});
