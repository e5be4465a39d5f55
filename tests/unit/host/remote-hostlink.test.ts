// HostLink's pure parts: the argv (options before the plug, ssh's words fixed, the far end's
// command only checked words), every field has a change policy, a hostile peer is refused.
import {
  hostLinkCommand,
  hostLinkSchema,
  hostLinkPolicy,
  hostLinkPaths,
} from "../../../provider/net/hostlink";
import { validate } from "../../../provider/core/schemas/fields";

const peer = {
  name: "host-b",
  address: "192.0.2.2",
  privateKey: "/k/id",
  knownHosts: "/k/known",
  runtimeRoot: "/var/tmp/ub",
  cache: "/var/cache/ub",
};
const inputs = { labDir: "/r/lab", name: "ab", a: "/r/lab/sw/swa.ctl", b: "/rb/lab/sw/swb.ctl", peer };

test("the link's argv: vde_plug -D <marker> <its private switch> = ssh <fixed options> -- <peer> vde_plug <B>", () => {
  const r = validate(hostLinkSchema(), inputs);
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  const { cmd, args } = hostLinkCommand(r.value);
  expect(cmd).toBe("vde_plug");
  expect(args.slice(0, 5)).toEqual([
    "-D",
    hostLinkPaths("/r/lab", "ab").marker,
    // The private switch the wirefilter joins to switch A (impairments), not A itself.
    hostLinkPaths("/r/lab", "ab").control,
    "=",
    "ssh",
  ]);
  expect(args).toContain("StrictHostKeyChecking=yes");
  expect(args.slice(-4)).toEqual(["--", "192.0.2.2", "vde_plug", "/rb/lab/sw/swb.ctl"]);
});

test("every field has a change policy; only `suspended` and the impairments are in place", () => {
  const r = validate(hostLinkSchema(), inputs);
  if (!r.ok) throw new Error("valid inputs refused");
  expect(Object.keys(hostLinkPolicy).sort()).toEqual(Object.keys(r.value).sort());
  const inPlace = Object.entries(hostLinkPolicy).filter(([, p]) => p.change !== "replace");
  expect(inPlace.map(([k]) => k)).toEqual(["suspended", "lossPercent", "delayMs", "rateKbit"]);
});

test("a hostile peer or switch path is refused, naming the field", () => {
  for (const [k, v, field] of [
    ["peer", { ...peer, address: "$(id)" }, "peer.address"],
    ["peer", { ...peer, proxyCommand: ["nc", "a;b"] }, "peer.proxyCommand[1]"],
    ["b", "/x y", "b"],
    ["b", "/x;reboot", "b"],
    ["lossPercent", 101, "lossPercent"],
    ["delayMs", -1, "delayMs"],
    ["delayMs", 1.5, "delayMs"],
    ["rateKbit", "fast", "rateKbit"],
  ] as const) {
    const r = validate(hostLinkSchema(), { ...inputs, [k]: v });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.failures.map((f) => f.property)).toContain(field);
  }
});
