// toolchain/ts-cache.js, the loader our language host preloads for .ts lab programs: a hit
// loads neither typescript nor ts-node, a changed file is compiled again, errors keep ts-node's
// form and are never cached, a damaged entry is ignored, stack traces point at .ts lines.
// Real node processes with the project's own @pulumi/pulumi, typescript and ts-node; no UML.
import * as child_process from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const REPO = path.resolve(__dirname, "../../..");
const HOOK = path.join(REPO, "toolchain/ts-cache.js");

let dir: string;
let cache: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-tscache-"));
  cache = path.join(dir, "cache");
  // The loader finds @pulumi/pulumi (and through it typescript, ts-node) from the program's folder.
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Run `node --require <loader>` in the program folder: require ./prog and print what was loaded. */
function run(env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const script = [
    "let failed;",
    "try { require('./prog'); } catch (e) { failed = e; }",
    "const mods = Object.keys(require.cache);",
    "console.log(JSON.stringify({",
    "  typescript: mods.some((m) => /[\\\\/]typescript[\\\\/]/.test(m)),",
    "  tsnode: mods.some((m) => /ts-node/.test(m)),",
    "  name: failed && failed.name, message: failed && String(failed.message), stack: failed && String(failed.stack),",
    "}));",
  ].join("\n");
  const envAll: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    UMLAB_TS_CACHE_DIR: cache,
    ...env,
  };
  const r = child_process.spawnSync(process.execPath, ["--require", HOOK, "-e", script], {
    cwd: dir,
    env: envAll,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const report = (r: { out: string }) => JSON.parse(r.out.trim().split("\n").pop()!);
const entries = () => (fs.existsSync(cache) ? fs.readdirSync(cache).filter((f) => f.endsWith(".js")) : []);

const PROGRAM = [
  "interface Point {", // 1
  "  x: number;", // 2
  "  y: number;", // 3
  "}", // 4
  "const p: Point = { x: 1, y: 2 };", // 5
  "console.log(`sum ${p.x + p.y}`);", // 6
  "export function boom(): never {", // 7
  '  throw new Error("boom at line 8");', // 8
  "}", // 9
  "if (process.env.BOOM) boom();", // 10
  "",
].join("\n");

test("a miss compiles with ts-node and stores; a hit loads neither typescript nor ts-node", () => {
  fs.writeFileSync(path.join(dir, "prog.ts"), PROGRAM);
  const first = run();
  expect(first.code).toBe(0);
  expect(first.out).toContain("sum 3");
  expect(report(first)).toMatchObject({ typescript: true, tsnode: true });
  expect(entries()).toHaveLength(1);
  expect(fs.statSync(cache).mode & 0o777).toBe(0o700);

  const second = run();
  expect(second.out).toContain("sum 3");
  expect(report(second)).toMatchObject({ typescript: false, tsnode: false });
  expect(entries()).toHaveLength(1);
  // No temporary file is left beside the entries.
  expect(fs.readdirSync(cache).filter((f) => f.startsWith("."))).toEqual([]);
});

test("a changed file is compiled again, never served stale", () => {
  fs.writeFileSync(path.join(dir, "prog.ts"), PROGRAM);
  expect(run().out).toContain("sum 3");
  fs.writeFileSync(path.join(dir, "prog.ts"), PROGRAM.replace("y: 2", "y: 40"));
  const r = run();
  expect(r.out).toContain("sum 41");
  expect(report(r).typescript).toBe(true);
  expect(entries()).toHaveLength(2);
});

test("stack traces point at the .ts lines, compiled or from the cache", () => {
  fs.writeFileSync(path.join(dir, "prog.ts"), PROGRAM);
  for (const servedFromCache of [false, true]) {
    const r = report(run({ BOOM: "1" }));
    expect(r.typescript).toBe(!servedFromCache);
    expect(r.message).toBe("boom at line 8");
    expect(r.stack).toMatch(/^Error: boom at line 8\n/);
    expect(r.stack).toContain(`${path.join(dir, "prog.ts")}:8:`);
    expect(r.stack).toContain(`${path.join(dir, "prog.ts")}:10:`);
  }
});

test("under Pulumi's cmd/run, source-map-support is not loaded and the program's frames are still mapped", () => {
  // A stand-in for @pulumi/pulumi/cmd/run: loads source-map-support/register first, as the
  // real one does, then the program.
  const run = path.join(dir, "sdk/@pulumi/pulumi/cmd/run");
  fs.mkdirSync(run, { recursive: true });
  fs.writeFileSync(
    path.join(run, "index.js"),
    [
      'require("source-map-support/register");',
      "let failed;",
      `try { require(${JSON.stringify(path.join(dir, "prog"))}); } catch (e) { failed = e; }`,
      "const mods = Object.keys(require.cache);",
      "console.log(JSON.stringify({ sms: mods.some((m) => /source-map-support\\.js$/.test(m)), stack: String(failed.stack) }));",
    ].join("\n"),
  );
  fs.writeFileSync(path.join(dir, "prog.ts"), PROGRAM);
  for (let i = 0; i < 2; i++) {
    const r = child_process.spawnSync(process.execPath, ["--require", HOOK, run], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, UMLAB_TS_CACHE_DIR: cache, BOOM: "1" },
      encoding: "utf8",
    });
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(out.sms).toBe(false);
    expect(out.stack).toContain(`${path.join(dir, "prog.ts")}:8:`);
  }
});

test("a syntax error is ts-node's TSError, and nothing is cached for it", () => {
  fs.writeFileSync(path.join(dir, "prog.ts"), "const x: number = ;\n");
  const r = report(run());
  expect(r.name).toBe("TSError");
  expect(r.message).toContain("Unable to compile TypeScript");
  expect(r.message).toContain("prog.ts(1,19)");
  expect(entries()).toEqual([]);
});

test("a damaged entry (cut short) is not used: the file is compiled again", () => {
  fs.writeFileSync(path.join(dir, "prog.ts"), PROGRAM);
  run();
  const [entry] = entries();
  const full = fs.readFileSync(path.join(cache, entry), "utf8");
  fs.writeFileSync(path.join(cache, entry), full.slice(0, Math.floor(full.length / 2)));
  const r = run();
  expect(r.out).toContain("sum 3");
  expect(report(r).typescript).toBe(true);
  expect(fs.readFileSync(path.join(cache, entry), "utf8")).toBe(full);
});

test("TS_NODE_* settings or a tsconfig that extends another file bypass the cache", () => {
  fs.writeFileSync(path.join(dir, "prog.ts"), PROGRAM);
  const r = run({ TS_NODE_PRETTY: "true" });
  expect(r.out).toContain("sum 3");
  expect(entries()).toEqual([]);

  fs.writeFileSync(path.join(dir, "base.json"), JSON.stringify({ compilerOptions: { strict: true } }));
  fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ extends: "./base.json" }));
  expect(run().out).toContain("sum 3");
  expect(entries()).toEqual([]);
});

test("the tsconfig's text is part of the key", () => {
  fs.writeFileSync(path.join(dir, "prog.ts"), PROGRAM);
  fs.writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { target: "ES2020" } }),
  );
  run();
  fs.writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { target: "ES2022" } }),
  );
  const r = run();
  expect(report(r).typescript).toBe(true);
  expect(entries()).toHaveLength(2);
});

test("files under node_modules are left to Node's own loader, as with ts-node", () => {
  const pkg = path.join(dir, "lib", "node_modules", "dep");
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, "index.ts"), "module.exports = 'plain js in a .ts file';\n");
  fs.writeFileSync(path.join(dir, "prog.ts"), `console.log(require("./lib/node_modules/dep/index.ts"));\n`);
  const r = run();
  expect(r.out).toContain("plain js in a .ts file");
  expect(entries()).toHaveLength(1); // prog.ts only
});
