// patches/@pulumi+pulumi+<version>.patch (applied by `npm ci`/`npm install` through the
// postinstall script, patch-package) makes @pulumi/pulumi load typescript and
// @npmcli/arborist only when closure serialization or code paths are used, which umlab never
// does (a provider is a one-line require of umlab/provider), and the Automation API only on
// first use of pulumi.automation (umlab imports @pulumi/pulumi/automation). These tests fail when
// @pulumi/pulumi is upgraded without re-checking the patch, or when the patch is not applied.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";

const REPO = path.resolve(__dirname, "../../..");
const PATCHES = path.join(REPO, "patches");
const installed = (
  JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")) as {
    version: string;
  }
).version;

/** Runs a script in a fresh node (outside Jest's module registry) from the repository root. */
function nodeJson(script: string): unknown {
  const out = child_process.execFileSync(process.execPath, ["-e", script], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 60_000,
  });
  return JSON.parse(out.trim().split("\n").pop() as string);
}

// Which of the heavy modules a require left loaded.
const HEAVY = `Object.keys(require.cache).filter((f) => /node_modules\\/(typescript|@npmcli\\/arborist)\\//.test(f)).length`;
const AUTOMATION = `Object.keys(require.cache).filter((f) => /@pulumi\\/pulumi\\/automation\\//.test(f)).length`;

describe("the @pulumi/pulumi lazy-require patch", () => {
  test("its version is the installed and the pinned @pulumi/pulumi version", () => {
    const patches = fs.readdirSync(PATCHES).filter((f) => f.startsWith("@pulumi+pulumi+"));
    const pinned = (
      JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as {
        devDependencies: Record<string, string>;
      }
    ).devDependencies["@pulumi/pulumi"];
    const fix =
      `@pulumi/pulumi is ${installed} but the patch is ${patches.join(", ")}: check whether ` +
      `runtime/index.js still requires closure/serializeClosure and closure/codePaths eagerly, ` +
      `then redo the edit and run npx patch-package @pulumi/pulumi (or delete the patch if no longer needed)`;
    expect({ patches, pinned, fix }).toEqual({
      patches: [`@pulumi+pulumi+${installed}.patch`],
      pinned: installed,
      fix,
    });
  });

  test("it is applied: require(@pulumi/pulumi) loads neither typescript, @npmcli/arborist nor the Automation API", () => {
    const loaded = nodeJson(
      `require("@pulumi/pulumi"); console.log(JSON.stringify([${HEAVY}, ${AUTOMATION}]))`,
    );
    expect(loaded).toEqual([0, 0]);
  });

  test("the dynamic-provider process does not load them either", () => {
    // Loading the entry starts its gRPC server (bound to an ephemeral loopback port) and
    // returns; every module it needs is loaded by then. It never connects to the address.
    const loaded = nodeJson(
      `process.argv = [process.argv[0], "dynamic-provider", "127.0.0.1:1"];
       require("@pulumi/pulumi/cmd/dynamic-provider/index.js"); console.log(${HEAVY}); process.exit(0)`,
    );
    expect(loaded).toBe(0);
  });

  test("the deferred exports still work on first use (and then load what they need)", () => {
    const r = nodeJson(
      `const p = require("@pulumi/pulumi");
       const kinds = [typeof p.runtime.serializeFunction, typeof p.runtime.serializeFunctionAsync, typeof p.runtime.computeCodePaths];
       const keys = ["serializeFunction", "computeCodePaths"].every((k) => Object.keys(p.runtime).includes(k)) && Object.keys(p).includes("automation");
       kinds.push(typeof p.automation.LocalWorkspace, typeof require("@pulumi/pulumi/automation").LocalWorkspace);
       p.runtime.serializeFunction(() => 42).then((sf) => console.log(JSON.stringify({ kinds, keys, heavy: ${HEAVY}, ok: sf.text.includes("42") })));`,
    );
    expect(r).toEqual({
      kinds: ["function", "function", "function", "function", "function"],
      keys: true,
      heavy: expect.any(Number),
      ok: true,
    });
    expect((r as { heavy: number }).heavy).toBeGreaterThan(0);
  });
});
