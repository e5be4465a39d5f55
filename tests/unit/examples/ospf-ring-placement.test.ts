// The ospf-ring's placement config (examples/ospf-ring/placement.ts) and the Checks' grouping
// by host (provider/exec/checks.ts byHost): without hostB everything is here; bad config is
// refused by name; checks of one host go there together, in their order.
import { parsePlacement } from "../../../examples/ospf-ring/placement";
import { byHost } from "../../../provider/exec/checks";
import type { CheckSpec } from "../../../provider/exec/checks";

const hostB = { name: "host-b", address: "192.0.2.2" };
const cfg = (c: Record<string, string>) => (k: string) => c[k];

test("without hostB nothing is on host B, whatever onB says", () => {
  const p = parsePlacement(cfg({ onB: "node01" }));
  expect(p.hostB).toBeUndefined();
  expect([...p.onB]).toEqual([]);
});

test("with hostB: node03/node04 there by default, peerB defaults to hostB, cables parsed", () => {
  const p = parsePlacement(cfg({ hostB: JSON.stringify(hostB), cables: '{"link2":{"delayMs":5}}' }));
  expect([...p.onB].sort()).toEqual(["node03", "node04"]);
  expect(p.peerB).toEqual(hostB);
  expect(p.cables).toEqual({ link2: { delayMs: 5 } });
  const q = parsePlacement(
    cfg({ hostB: JSON.stringify(hostB), onB: "node02, node03", peerB: '{"name":"x"}' }),
  );
  expect([...q.onB]).toEqual(["node02", "node03"]);
  expect(q.peerB).toEqual({ name: "x" });
});

test("bad config is refused naming the key", () => {
  expect(() => parsePlacement(cfg({ hostB: "{nope" }))).toThrow(/config hostB is not JSON/);
  expect(() => parsePlacement(cfg({ hostB: JSON.stringify(hostB), onB: "node05" }))).toThrow(
    /config onB names "node05"/,
  );
  expect(() => parsePlacement(cfg({ cables: "[" }))).toThrow(/config cables is not JSON/);
});

test("checks are grouped by their guest's host, here first-seen, in order", () => {
  const c = (guest: string, host?: object) =>
    ({ kind: "ping", to: "10.0.0.1", guestDir: `/r/lab/g/${guest}`, ...(host ? { host } : {}) }) as CheckSpec;
  const groups = byHost([c("a"), c("b", hostB), c("c"), c("d", hostB), c("e", { ...hostB, name: "host-c" })]);
  expect([...groups.values()]).toEqual([[0, 2], [1, 3], [4]]);
  expect([...groups.keys()][0]).toBe("");
});
