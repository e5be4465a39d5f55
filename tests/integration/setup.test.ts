// The toolchain setup fails clearly and installs nothing when it cannot build.
import * as child_process from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO } from "../helpers/stack";
import { ensurePulumiOnPath } from "../helpers/lab";
import { fileBackendUrl } from "../../cli/toolchain";

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
    // setup keeps its apt log on failure: give it a scratch TMPDIR so the test leaves nothing.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-pkgs-"));
    const r = child_process.spawnSync("bash", [path.join(REPO, "scripts/setup.sh"), "packages"], {
      env: { ...process.env, TMPDIR: tmp, UMLAB_DEBIAN_PACKAGES: "bash umlab-no-such-package" },
      encoding: "utf8",
    });
    fs.rmSync(tmp, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /ERROR: (could not install Debian packages|missing Debian packages): umlab-no-such-package/,
    );
    expect(r.stderr).not.toContain("bash umlab"); // installed packages are not listed as missing
  });
});

describe("local state and setup files are private", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-priv-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Every path under `dir` whose mode lets group or others in. */
  const open = (root: string): string[] => {
    const bad: string[] = [];
    const walk = (p: string) => {
      const st = fs.lstatSync(p);
      if ((st.mode & 0o077) !== 0) bad.push(`${path.relative(root, p)} ${(st.mode & 0o777).toString(8)}`);
      if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    };
    walk(root);
    return bad;
  };
  /** The user's environment without this repo's Pulumi settings (the test runner sets them). */
  const userEnv = (extra: Record<string, string> = {}) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
    for (const k of ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"])
      if (!(k in extra)) delete env[k];
    return env;
  };

  test("umlab pulumi, under a umask of 022, makes .pulumi-state 0700 (an old 0755 one too) and its files 0600", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: privlab\nruntime: nodejs\n");
    fs.mkdirSync(path.join(dir, ".pulumi-state"), { mode: 0o755 });
    fs.chmodSync(path.join(dir, ".pulumi-state"), 0o755);
    const r = child_process.spawnSync(
      "sh",
      ["-c", 'umask 022; exec node "$0" pulumi stack ls', path.join(REPO, "dist/cli/umlab.js")],
      { cwd: dir, env: userEnv({ UMLAB_STACK: "privtest" }), encoding: "utf8" },
    );
    expect(r.stderr).toContain('using stack "privtest"');
    expect(r.status).toBe(0);
    const state = path.join(dir, ".pulumi-state");
    const files = child_process.execFileSync("find", [state, "-type", "f"], { encoding: "utf8" });
    expect(files).toMatch(/stacks\/privlab\/privtest\.json/);
    expect(fs.statSync(state).mode & 0o777).toBe(0o700);
    expect(open(state)).toEqual([]);
  });

  test("umlab pulumi refuses an explicitly empty passphrase, before touching any state", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: privlab\nruntime: nodejs\n");
    const r = child_process.spawnSync(
      "node",
      [path.join(REPO, "dist/cli/umlab.js"), "pulumi", "stack", "ls"],
      {
        cwd: dir,
        env: userEnv({ PULUMI_CONFIG_PASSPHRASE: "" }),
        encoding: "utf8",
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("PULUMI_CONFIG_PASSPHRASE is set but empty");
    expect(fs.existsSync(path.join(dir, ".pulumi-state"))).toBe(false);
  });

  test("scripts/with-env.sh sets umask 077, keeps .pulumi-state 0700 and refuses an empty passphrase", () => {
    const sh = (script: string, extra: Record<string, string> = {}) =>
      child_process.spawnSync(
        "sh",
        ["-c", `umask 022; exec bash "$0" bash -c '${script}'`, path.join(REPO, "scripts/with-env.sh")],
        {
          env: userEnv({ PULUMI_BACKEND_URL: fileBackendUrl(dir), ...extra }),
          encoding: "utf8",
        },
      );
    const ok = sh('umask; stat -c %a .pulumi-state; echo "$PULUMI_CONFIG_PASSPHRASE"');
    expect(ok.status).toBe(0);
    expect(ok.stdout.split("\n").slice(0, 3)).toEqual(["0077", "700", "umlab-dev"]);
    const empty = sh("echo ran", { PULUMI_CONFIG_PASSPHRASE: "" });
    expect(empty.status).toBe(1);
    expect(empty.stdout).not.toContain("ran");
    expect(empty.stderr).toContain("PULUMI_CONFIG_PASSPHRASE is set but empty");
    const file = sh('echo "[${PULUMI_CONFIG_PASSPHRASE-unset}]"', { PULUMI_CONFIG_PASSPHRASE_FILE: "/x/pp" });
    expect(file.stdout.trim()).toBe("[unset]");
  });

  test("setup writes its apt log to a fresh private temp file, never a fixed name in /tmp", () => {
    const fixed = "/tmp/umlab-apt.log";
    const existed = fs.existsSync(fixed);
    const r = child_process.spawnSync("bash", [path.join(REPO, "scripts/setup.sh"), "packages"], {
      env: { ...process.env, TMPDIR: dir, UMLAB_DEBIAN_PACKAGES: "bash umlab-no-such-package" },
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    const logs = fs.readdirSync(dir);
    if (process.getuid!() === 0) {
      // root runs apt-get: one log, made by mktemp (0600), named in the error
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatch(/^umlab-apt\.[A-Za-z0-9]{6}$/);
      expect(fs.statSync(path.join(dir, logs[0])).mode & 0o777).toBe(0o600);
      expect(r.stderr).toContain(path.join(dir, logs[0]));
    }
    if (!existed) expect(fs.existsSync(fixed)).toBe(false);
  });
});

describe("the file backend umlab uses", () => {
  // gocloud's fileblob writes a `<state file>.attrs` sidecar with a plain create-and-write: a
  // pulumi killed in between leaves it empty, and every later command fails "failed to load
  // checkpoint: EOF" (seen once in the chaos test). umlab's backend URLs turn sidecars off, so
  // every state write is a rename. Shown against a plain file:// URL, which does write them.
  test("writes no .attrs sidecars (a plain file:// URL does)", () => {
    ensurePulumiOnPath();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-backend-"));
    try {
      const project = path.join(work, "p");
      fs.mkdirSync(project);
      fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: backend-test\nruntime: yaml\n");
      const sidecars = (url: string, state: string) => {
        fs.mkdirSync(state);
        const env = {
          ...process.env,
          PULUMI_BACKEND_URL: url,
          PULUMI_CONFIG_PASSPHRASE: "t",
          PULUMI_SKIP_UPDATE_CHECK: "true",
        };
        for (const args of [
          ["stack", "init", "dev"],
          ["config", "set", "k", "v"],
          ["stack", "ls"],
        ]) {
          const r = child_process.spawnSync("pulumi", args, { cwd: project, env, encoding: "utf8" });
          expect([args.join(" "), r.status]).toEqual([args.join(" "), 0]);
        }
        fs.rmSync(path.join(project, "Pulumi.dev.yaml"), { force: true });
        const files = (fs.readdirSync(state, { recursive: true }) as string[]).map(String);
        expect(files.some((f) => f.endsWith("dev.json"))).toBe(true);
        return files.filter((f) => f.endsWith(".attrs"));
      };
      expect(sidecars(fileBackendUrl(path.join(work, "ours")), path.join(work, "ours"))).toEqual([]);
      expect(sidecars(`file://${path.join(work, "plain")}`, path.join(work, "plain")).length).toBeGreaterThan(
        0,
      );
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
