// toolchain/dynamic-provider-launcher.sh (our pulumi-resource-pulumi-nodejs): finds
// @pulumi/pulumi/cmd/dynamic-provider from the working directory up, as Node would, and runs
// one node with the engine's arguments unchanged; only without a node_modules on the way does
// it ask Node. A stand-in `node` on PATH records what it was run with.
import * as child_process from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const LAUNCHER = path.resolve(__dirname, "../../../toolchain/dynamic-provider-launcher.sh");
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-dynlaunch-"));
  fs.mkdirSync(path.join(dir, "bin"));
  // The stand-in node: `-e` answers a resolve (the fallback); anything else is recorded.
  fs.writeFileSync(
    path.join(dir, "bin", "node"),
    `#!/bin/sh\nif [ "$1" = -e ]; then echo /from/node/resolve.js; exit 0; fi\nfor a in "$@"; do printf '%s\\n' "$a"; done >>"${dir}/ran"\n`,
    { mode: 0o755 },
  );
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function launch(cwd: string, args: string[]): string[] {
  const r = child_process.spawnSync("sh", [LAUNCHER, ...args], {
    cwd,
    env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin` },
    encoding: "utf8",
  });
  expect(r.status).toBe(0);
  return fs.readFileSync(path.join(dir, "ran"), "utf8").split("\n").slice(0, -1);
}

test("finds the SDK's dynamic provider in a parent folder's node_modules and passes the arguments intact", () => {
  const entry = path.join(dir, "proj/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js");
  fs.mkdirSync(path.dirname(entry), { recursive: true });
  fs.writeFileSync(entry, "");
  const deep = path.join(dir, "proj/labs/a b");
  fs.mkdirSync(deep, { recursive: true });
  expect(launch(deep, ["127.0.0.1:1234", "two words", "$(x)"])).toEqual([
    entry,
    "127.0.0.1:1234",
    "two words",
    "$(x)",
  ]);
});

test("without a node_modules on the way up it asks Node to resolve it", () => {
  const lonely = path.join(dir, "nothing/here");
  fs.mkdirSync(lonely, { recursive: true });
  expect(launch(lonely, ["addr"])).toEqual(["/from/node/resolve.js", "addr"]);
});
