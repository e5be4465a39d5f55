// The remote wrapper (provider/host/remote-provider.ts) without a host is the component's own
// provider, call for call; with a host it checks the host (failures naming host.<field>),
// replaces on a move to another host, compares a staged image as the path given here; the
// answer line, the unreachable error, and the receiving side of an image copy (a wrong or
// short stream leaves nothing; a path is only ever a sha256 under the cache).
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { remoteCapable, asGiven } from "../../../provider/host/remote-provider";
import { answerOf, unreachableError } from "../../../provider/host/remote";
import { imagePathOn, receiveImage, hasImage } from "../../../provider/host/remote-images";
import { parseHost, type HostInput } from "../../../provider/host/remote-argv";
import { provider } from "../../../provider";

const host: HostInput = {
  name: "host-b",
  address: "192.0.2.2",
  runtimeRoot: "/var/tmp/u",
  cache: "/var/cache/u",
};

function recorder() {
  const calls: [string, unknown[]][] = [];
  const rec =
    (m: string, ret: any) =>
    async (...args: any[]): Promise<any> => {
      calls.push([m, args]);
      return ret;
    };
  const inner: pulumi.dynamic.ResourceProvider = {
    check: rec("check", { inputs: { labDir: "/l", name: "sw" } }),
    diff: rec("diff", { changes: false }),
    create: rec("create", { id: "i", outs: { a: 1 } }),
    read: rec("read", { id: "i", props: { a: 1 } }),
    update: rec("update", { outs: { a: 2 } }),
    delete: rec("delete", undefined),
  };
  return { calls, inner };
}

describe("remote wrapper", () => {
  test("without a host every call goes to the component's own handler, unchanged", async () => {
    const { calls, inner } = recorder();
    const p = remoteCapable("switchProvider", inner);
    const news = { labDir: "/l", name: "sw", __provider: "x" };
    expect(await p.check!({}, news)).toEqual({ inputs: { labDir: "/l", name: "sw" } });
    expect(await p.diff!("i", { a: 1 }, news)).toEqual({ changes: false });
    expect(await p.create(news)).toEqual({ id: "i", outs: { a: 1 } });
    expect(await p.read!("i", { a: 1 })).toEqual({ id: "i", props: { a: 1 } });
    expect(await p.update!("i", { a: 1 }, news)).toEqual({ outs: { a: 2 } });
    await p.delete!("i", { a: 1 });
    expect(calls.map(([m, a]) => [m, a])).toEqual([
      ["check", [{}, news]],
      ["diff", ["i", { a: 1 }, news]],
      ["create", [news]],
      ["read", ["i", { a: 1 }]],
      ["update", ["i", { a: 1 }, news]],
      ["delete", ["i", { a: 1 }]],
    ]);
  });

  test("the image provider is never wrapped (it runs where the program runs)", () => {
    const { inner } = recorder();
    expect(remoteCapable("imageProvider", inner)).toBe(inner);
  });

  test("a bad host fails check naming host.<field>; a good one is parsed and kept", async () => {
    const { inner } = recorder();
    const p = remoteCapable("switchProvider", inner);
    const bad = await p.check!({}, { labDir: "/l", name: "sw", host: { ...host, address: "$(reboot)" } });
    expect(bad.failures?.map((f) => f.property)).toEqual(["host.address"]);
    const good = await p.check!({}, { labDir: "/l", name: "sw", host });
    expect(good.failures).toBeUndefined();
    expect(good.inputs.host).toEqual(parseHost(host));
  });

  test("a move to another host replaces; the staged image compares as the path given here", async () => {
    const { calls, inner } = recorder();
    const p = remoteCapable("cowDiskProvider", inner);
    const h = parseHost(host);
    const moved = await p.diff!(
      "i",
      { name: "d", host: h },
      { name: "d", host: { ...h, address: "192.0.2.9" } },
    );
    expect(moved).toEqual({ changes: true, replaces: ["host"], deleteBeforeReplace: true });
    const olds = {
      name: "d",
      backing: "/var/cache/u/sha256/ab.img",
      host: h,
      __staged: { backing: { from: "/here/img", sha256: "ab" } },
    };
    await p.diff!("i", olds, { name: "d", backing: "/here/img", host: h });
    expect(calls.at(-1)).toEqual([
      "diff",
      ["i", { name: "d", backing: "/here/img" }, { name: "d", backing: "/here/img" }],
    ]);
    // Only the key changed: recorded in place (no remote step needed).
    const keyOnly = await p.diff!("i", olds, {
      name: "d",
      backing: "/here/img",
      host: { ...h, privateKey: "/k2" },
    });
    expect(keyOnly.changes).toBe(true);
    expect(keyOnly.replaces ?? []).toEqual([]);
    expect(asGiven({ backing: "/there", x: 1 }, undefined)).toEqual({ backing: "/there", x: 1 });
  });

  test("the registry wraps every provider: a host-less check is the component's own", async () => {
    const r = await provider("switchProvider").check!({}, { labDir: "/tmp/l", name: "sw" });
    expect(r.failures).toBeUndefined();
    expect(r.inputs).toEqual({
      labDir: "/tmp/l",
      name: "sw",
      engine: "uml_switch",
      hub: false,
      suspended: false,
    });
  });
});

describe("remote answers and errors", () => {
  test("only the umlab answer line counts; the last one wins", () => {
    expect(answerOf("noise\n")).toBeUndefined();
    expect(answerOf('{"ok":true}\n')).toBeUndefined();
    expect(answerOf('x\n{"umlabRemote":1,"ok":true,"result":5}\n')).toEqual({ ok: true, result: 5 });
    expect(answerOf('{"umlabRemote":1,"ok":false,"error":"boom"}\n')).toEqual({ ok: false, error: "boom" });
  });

  test("ssh's own failure (255) says the host cannot be reached and the fix; another code says umlab did not start", () => {
    const h = parseHost({ ...host, privateKey: "/k/id" });
    const e = unreachableError(h, 255, "Permission denied (publickey).", "/u/main.js");
    expect(e.message).toMatch(/host "host-b" \(root@192\.0\.2\.2 port 22\) cannot be reached over SSH/);
    expect(e.message).toMatch(/\/k\/id is in its authorized_keys/);
    const f = unreachableError(h, 127, "node: not found", "/u/main.js");
    expect(f.message).toMatch(/umlab could not start there/);
  });
});

describe("receiving an image", () => {
  let dir = "";
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-rimg-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function* chunks(...bufs: Buffer[]) {
    for (const b of bufs) yield b;
  }
  const data = crypto.randomBytes(70_000);
  const sha = crypto.createHash("sha256").update(data).digest("hex");

  test("whole and right: 0444 at <cache>/sha256/<sha>.img, then hasImage", async () => {
    const p = await receiveImage(dir, sha, data.length, chunks(data.subarray(0, 1000), data.subarray(1000)));
    expect(p).toBe(path.join(dir, "sha256", `${sha}.img`));
    expect(fs.statSync(p).mode & 0o777).toBe(0o444);
    expect(fs.readFileSync(p).equals(data)).toBe(true);
    expect(await hasImage(dir, sha)).toBe(true);
  });

  test.each([
    ["short", () => chunks(data.subarray(0, 500))],
    ["long", () => chunks(data, Buffer.from("x"))],
    ["other bytes", () => chunks(Buffer.alloc(data.length))],
  ])("%s: refused, nothing kept", async (_what, make) => {
    await expect(receiveImage(dir, sha, data.length, make())).rejects.toThrow(/nothing kept/);
    expect(fs.readdirSync(path.join(dir, "sha256"))).toEqual([]);
    expect(await hasImage(dir, sha)).toBe(false);
  });

  test("a second copy of the same content never replaces the first (COW disks were made over it)", async () => {
    const p = await receiveImage(dir, sha, data.length, chunks(data));
    const ino = fs.statSync(p).ino;
    expect(await receiveImage(dir, sha, data.length, chunks(data))).toBe(p);
    expect(fs.statSync(p).ino).toBe(ino);
    expect(fs.readdirSync(path.join(dir, "sha256")).filter((f) => f.startsWith(".in-"))).toEqual([]);
  });

  test("a name that is not a sha256 never becomes a path", () => {
    for (const bad of ["../../etc/passwd", "A".repeat(64), "ab", `${"a".repeat(64)}/x`, ""])
      expect(() => imagePathOn(dir, bad)).toThrow(/not a sha256/);
  });
});
