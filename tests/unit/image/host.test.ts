// Validation of Image args on this host: the pure schema (core/schemas/image.ts) plus the
// file-system facts zod must not see (provider/image/host.ts).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { imageFileFailures, validateImageArgs } from "../../../provider/image/host";
import { imageArgFailures, imageArgsSchema } from "../../../provider/core/schemas/image";
import { UNKNOWN } from "../../../provider/core/unknown";

describe("image args validation", () => {
  const reasons = (args: Record<string, any>) => validateImageArgs(args).map((f) => f.reason);

  test("valid args pass", () => {
    expect(validateImageArgs({})).toEqual([]);
    expect(
      validateImageArgs({ preset: "debian", packages: ["frr", "iputils-ping"], suite: "bookworm" }),
    ).toEqual([]);
  });

  test("an unknown preset names the field and the choices", () => {
    const f = validateImageArgs({ preset: "alpine" });
    expect(f[0].property).toBe("preset");
    expect(f[0].reason).toMatch(/preset: .*busybox.*debian/);
  });

  test("a bad package name names the field and the index", () => {
    expect(reasons({ preset: "debian", packages: ["frr", "Bad Name"] })[0]).toMatch(
      /^packages\[1\]: must be a Debian package name/,
    );
  });

  test("debian-only fields are refused for busybox", () => {
    expect(reasons({ packages: ["frr"] })[0]).toMatch(/^packages: only applies to preset "debian"/);
  });

  test("only one source at a time", () => {
    expect(reasons({ preset: "busybox", dir: "/tmp" })[0]).toMatch(/only one of preset, dir, tarball/);
  });

  test("relative and missing paths are refused", () => {
    expect(reasons({ dir: "rootfs" })[0]).toMatch(/^dir: must be an absolute path/);
    expect(reasons({ tarball: "/nonexistent/root.tar" })[0]).toMatch(/^tarball: .* is not a file/);
  });

  test("unknown fields are named", () => {
    const f = validateImageArgs({ pakages: ["frr"] });
    expect(f[0].property).toBe("pakages");
    expect(f[0].reason).toMatch(/unknown field/);
  });

  test("values still unknown during preview are not validated", () => {
    expect(validateImageArgs({ dir: UNKNOWN })).toEqual([]);
  });

  test("outputs in the props are ignored", () => {
    expect(validateImageArgs({ preset: "busybox", path: "/x.img", key: "k", sha256: "s" })).toEqual([]);
  });
});

describe("file-system facts are checked beside the schema, not in it", () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-image-unit-"));
    fs.writeFileSync(path.join(tmp, "root.tar"), "");
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test("the schema alone accepts a missing dir or tarball (it stats nothing)", () => {
    expect(imageArgsSchema().safeParse({ dir: "/nonexistent/root" }).success).toBe(true);
    expect(imageArgFailures({ tarball: "/nonexistent/root.tar" })).toEqual([]);
  });

  test("a missing dir, a dir that is a file, a tarball that is a folder are named", () => {
    expect(validateImageArgs({ dir: "/nonexistent/root" })).toEqual([
      { property: "dir", reason: 'dir: "/nonexistent/root" is not a directory' },
    ]);
    expect(imageFileFailures({ dir: path.join(tmp, "root.tar") })[0].property).toBe("dir");
    expect(validateImageArgs({ tarball: tmp })).toEqual([
      { property: "tarball", reason: `tarball: "${tmp}" is not a file` },
    ]);
  });

  test("an existing dir or tarball passes", () => {
    expect(validateImageArgs({ dir: tmp })).toEqual([]);
    expect(validateImageArgs({ tarball: path.join(tmp, "root.tar") })).toEqual([]);
  });

  test("they follow the schema's own rules, and only once every field has its type", () => {
    // Cross-field rules and file facts both listed, in that order.
    expect(validateImageArgs({ dir: "/nonexistent/root", packages: ["frr"] }).map((f) => f.property)).toEqual(
      ["packages", "dir"],
    );
    // A type error stops zod's cross-field rules, and the file facts with them.
    expect(validateImageArgs({ dir: "/nonexistent/root", sizeMb: "big" }).map((f) => f.property)).toEqual([
      "sizeMb",
    ]);
  });
});
