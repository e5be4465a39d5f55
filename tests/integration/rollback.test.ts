// Rolling a lab's shape back by re-applying the earlier program, on real UML: v1 → v2 (adds
// a router, readdresses a NIC) → v1. Each preview's steps are asserted: v2 → v1 is exactly
// the inverse of v1 → v2 (creates become deletes of the same resources, the same update,
// the same untouched rest), and the guests the change does not touch keep their boot ids.
import * as path from "path";
import { REPO, testStack, TestStack } from "../helpers/stack";
import {
  ensureBuilt,
  labSandbox,
  LabSandbox,
  type GuestInfo as LabGuestInfo,
  runUmlab,
} from "../helpers/lab";
import { buildImage, resolveSpec } from "../../provider/image/provider";
import { exec } from "../../sdk/exec";
import type { EngineEvent } from "@pulumi/pulumi/automation";

const workDir = path.join(REPO, "tests/integration/rollback-program");

type GuestInfo = Pick<LabGuestInfo, "name" | "pid" | "guestDir" | "bootId">;

/**
 * A preview's steps: op → sorted resource names (the stack itself and `same` left out, and
 * the default provider, which this test's config switch also "updates": the git workflow
 * changes no config; changeSummary counts it in both directions alike).
 */
async function previewSteps(
  t: TestStack,
): Promise<{ summary: Record<string, number>; steps: Record<string, string[]> }> {
  const steps: Record<string, string[]> = {};
  const onEvent = (e: EngineEvent) => {
    const m = e.resourcePreEvent?.metadata;
    if (!m || m.op === "same" || m.type === "pulumi:pulumi:Stack" || m.type.startsWith("pulumi:providers:"))
      return;
    (steps[m.op] ??= []).push(m.urn.split("::").pop()!);
  };
  const r = await t.stack.preview({ onEvent });
  for (const k of Object.keys(steps)) steps[k].sort();
  return { summary: r.changeSummary as Record<string, number>, steps };
}

async function address(g: GuestInfo): Promise<string> {
  return (
    await exec({ labDir: path.dirname(path.dirname(g.guestDir)), name: g.name }, "ip -4 -o addr show eth0")
  ).stdout;
}

describe("program rollback: v1 → v2 → v1", () => {
  let sandbox: LabSandbox | undefined;
  let t: TestStack | undefined;

  beforeAll(() => {
    sandbox = labSandbox("rollback", "urb");
    ensureBuilt();
  });
  afterAll(async () => {
    await t?.dispose().catch(() => undefined);
    sandbox?.cleanup();
  }, 600_000);

  test("the rollback preview is the inverse of the change; untouched guests keep their boot ids", async () => {
    const image = await buildImage(
      resolveSpec({ preset: "busybox", cacheDir: path.join(sandbox!.scratch, "cache") }),
    );
    t = await testStack(workDir, "merge-rollback", { backing: image.path, version: "1" });
    const v1 = await t.stack.up();
    expect(v1.summary.result).toBe("succeeded");
    const [g1, g2] = v1.outputs.guestInfo.value as GuestInfo[];

    await t.stack.setConfig("version", { value: "2" });
    const forward = await previewSteps(t);
    expect(forward.steps).toEqual({ create: ["r1", "r1-root"], update: ["g2"] });
    const v2 = await t.stack.up();
    expect(v2.summary.result).toBe("succeeded");
    const [g1b, g2b, r1] = v2.outputs.guestInfo.value as GuestInfo[];
    expect(r1.name).toBe("r1");
    expect(g1b.bootId).toBe(g1.bootId); // untouched
    expect(g2b.bootId).toBe(g2.bootId); // readdressed in place, not rebooted
    expect(await address(g2b)).toContain("10.0.0.22/24");

    await t.stack.setConfig("version", { value: "1" });
    const back = await previewSteps(t);
    expect(back.steps).toEqual({ delete: forward.steps.create, update: forward.steps.update });
    // The counts: creates and deletes swap, the same update, the same untouched rest.
    expect(back.summary).toEqual({
      delete: forward.summary.create,
      update: forward.summary.update,
      same: forward.summary.same,
    });
    const v1again = await t.stack.up();
    expect(v1again.summary.result).toBe("succeeded");
    const [g1c, g2c] = v1again.outputs.guestInfo.value as GuestInfo[];
    expect((v1again.outputs.guestInfo.value as GuestInfo[]).map((g) => g.name)).toEqual(["g1", "g2"]);
    expect([g1c.bootId, g2c.bootId]).toEqual([g1.bootId, g2.bootId]);
    expect(await address(g2c)).toContain("10.0.0.2/24");
    // Back at v1: nothing more to do.
    expect((await t.stack.preview()).changeSummary).toEqual({
      same: forward.summary.same + forward.summary.update,
    });

    // umlab history lists the three updates from the file backend, newest first, each with
    // the guests of its checkpoint, and says what a prior state cannot restore.
    const h = runUmlab(["history", "merge-rollback"], { cwd: workDir, env: t.env });
    expect(h.status).toBe(0);
    const guestsLines = h.stdout.split("\n").filter((l) => l.trim().startsWith("guests:"));
    expect(guestsLines.map((l) => l.trim().split(";")[0])).toEqual([
      "guests: g1 g2",
      "guests: g1 g2 r1",
      "guests: g1 g2",
    ]);
    expect(h.stdout).toMatch(/#3 .* update succeeded .*-2/);
    expect(h.stdout).toContain("only rewrites Pulumi's record");
  }, 1_200_000);
});
