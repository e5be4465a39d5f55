// The toolchain setup fails clearly and installs nothing when it cannot build.
import * as child_process from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO } from "../helpers/stack";

function toolchain(env: Record<string, string>) {
  return child_process.spawnSync("bash", [path.join(REPO, "scripts/toolchain.sh"), "ensure"], {
    env: { HOME: process.env.HOME ?? "/root", ...env },
    encoding: "utf8",
  });
}

describe("toolchain setup on a machine that cannot build", () => {
  let cache: string;
  beforeEach(() => {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-setup-"));
  });
  afterEach(() => fs.rmSync(cache, { recursive: true, force: true }));

  test("without Go it names what is missing and how to get it", () => {
    const r = toolchain({ PATH: "/usr/bin:/bin", UMLAB_CACHE: cache, UMLAB_GO: "/nonexistent/go" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Go is not installed");
    expect(r.stderr).toContain("install Go");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(fs.readdirSync(path.join(cache))).toEqual([]);
  });

  test("a failed module download says so and leaves no half-installed toolchain", () => {
    const goBin = fs.existsSync("/usr/local/go/bin/go")
      ? "/usr/local/go/bin"
      : path.dirname(
          child_process.execFileSync("bash", ["-c", "command -v go"], { encoding: "utf8" }).trim(),
        );
    const r = toolchain({
      PATH: `${goBin}:/usr/bin:/bin`,
      UMLAB_CACHE: cache,
      GOPROXY: "off",
      GOFLAGS: "",
      GOMODCACHE: path.join(cache, "empty-modcache"),
      GOCACHE: path.join(cache, "gocache"),
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("a Go module could not be downloaded");
    expect(r.stderr).toContain("Nothing was installed");
    // Only the scratch Go caches may exist; no toolchain directory and no leftover build dir.
    const left = fs.existsSync(path.join(cache, "toolchain"))
      ? fs.readdirSync(path.join(cache, "toolchain"))
      : [];
    expect(left).toEqual([]);
    // The module cache is read-only by design; make it removable for afterEach.
    child_process.spawnSync("chmod", ["-R", "u+w", cache]);
  });
});

describe("Debian packages", () => {
  test("a package the mirror lacks gives one clear message naming it", () => {
    const r = child_process.spawnSync("bash", [path.join(REPO, "scripts/setup.sh"), "packages"], {
      env: { ...process.env, UMLAB_DEBIAN_PACKAGES: "bash umlab-no-such-package" },
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /ERROR: (could not install Debian packages|missing Debian packages): umlab-no-such-package/,
    );
    expect(r.stderr).not.toContain("bash umlab"); // installed packages are not listed as missing
  });
});
