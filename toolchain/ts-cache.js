// umlab's loader for TypeScript lab programs, preloaded by our language host (`node --require`)
// in place of Pulumi's own ts-node set-up (issue 13: a lab program and the SDK's .ts files were
// transpiled by ts-node on every `pulumi preview`/`up`, and loading typescript alone costs
// about 0.3 s of CPU per run even when ts-node's cache already holds every output).
//
// What it does: each .ts/.tsx file a program requires (outside node_modules, as ts-node) is
// looked up by content in a cache directory (UMLAB_TS_CACHE_DIR). On a hit its JavaScript is
// compiled directly: neither typescript nor ts-node is loaded. On a miss the file is compiled by
// the very ts-node and typescript Pulumi would use, with the options Pulumi's `cmd/run` gives it
// (transpile only, target ES2020, module nodenext, the project's tsconfig.json), and the output
// is stored (written to a temporary file, then renamed: a reader never sees half an entry).
//
// The key is a hash of: this loader's version, the typescript and ts-node versions and paths,
// the tsconfig path and text, the file's path and its text. Stack traces of cached files are
// mapped back to the .ts lines through the output's inline source map (node:module SourceMap),
// parsed only when a stack is printed.
//
// Not used (Pulumi's own path runs instead): an ES-module package, a type-checking run
// (PULUMI_NODEJS_TRANSPILE_ONLY=false), any TS_NODE_* setting, a tsconfig that `extends`
// another file (the key would not see it); the language host decides the first two, this file
// the last two.
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const Module = require("module");

const VERSION = "1";
const cacheDir = process.env.UMLAB_TS_CACHE_DIR;
const EXTENSIONS = [".ts", ".tsx"];

/** Where Pulumi's Node SDK is, as `cmd/run` sees it (the program's node_modules). */
function pulumiDir() {
  return path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd()] }));
}

/** `name`'s package.json version and path as resolved from `from`, or the fallback label. */
function versionOf(name, from, fallback) {
  try {
    const p = require.resolve(`${name}/package.json`, { paths: [from] });
    return `${JSON.parse(fs.readFileSync(p, "utf8")).version}@${p}`;
  } catch {
    return fallback;
  }
}

let settings; // computed at the first .ts file: `cmd/run` has changed to the program's folder by then
function getSettings() {
  if (settings) return settings;
  const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH || "tsconfig.json";
  let tsconfig = null;
  try {
    tsconfig = fs.readFileSync(tsConfigPath, "utf8");
  } catch {
    /* no project file: ts-node's defaults, as Pulumi runs it (skipProject) */
  }
  const dir = pulumiDir();
  const bypass =
    !cacheDir ||
    Object.keys(process.env).some((k) => k.startsWith("TS_NODE_")) ||
    (tsconfig !== null && /"extends"\s*:/.test(tsconfig));
  const salt = JSON.stringify([
    VERSION,
    versionOf("typescript", dir, "vendored typescript"),
    versionOf("ts-node", dir, "vendored ts-node"),
    path.resolve(tsConfigPath),
    tsconfig,
  ]);
  settings = { tsConfigPath, hasTsconfig: tsconfig !== null, dir, bypass, salt };
  return settings;
}

let tsNode; // ts-node's register() result, made on the first miss only
function compiler() {
  if (tsNode) return tsNode;
  const s = getSettings();
  const tsutils = require(path.join(s.dir, "tsutils"));
  const names = tsutils.typeScriptRequireStrings();
  // Bare names resolve from the SDK's folder, as in cmd/run (vendored copies are absolute).
  const from = (id) => (path.isAbsolute(id) ? id : require.resolve(id, { paths: [s.dir] }));
  const typescriptRequire = from(names.typescriptRequire);
  const tsnodeRequire = from(names.tsnodeRequire);
  const ts = require(typescriptRequire);
  const [major, minor] = String(ts.version).split(".").map(Number);
  const nodeNext = major > 4 || (major === 4 && minor >= 7);
  // Exactly the options Pulumi's cmd/run registers ts-node with (non-ESM case).
  const options = {
    compiler: typescriptRequire,
    transpileOnly: true,
    project: s.tsConfigPath,
    skipProject: !s.hasTsconfig,
    compilerOptions: {
      target: "ES2020",
      module: nodeNext ? "nodenext" : "commonjs",
      moduleResolution: nodeNext ? "nodenext" : "node",
      sourceMap: "true",
      ...tsutils.loadTypeScriptCompilerOptions(s.tsConfigPath),
    },
  };
  // register() installs ts-node's own require hooks and stack-trace mapper: keep ours.
  const saved = EXTENSIONS.map((e) => require.extensions[e]);
  const savedTrace = Error.prepareStackTrace;
  tsNode = require(tsnodeRequire).register(options);
  EXTENSIONS.forEach((e, i) => (require.extensions[e] = saved[i]));
  Error.prepareStackTrace = savedTrace;
  return tsNode;
}

function cached(key) {
  try {
    const text = fs.readFileSync(path.join(cacheDir, `${key}.js`), "utf8");
    return text.endsWith("\n//umlab-ts-cache-end\n") ? text : undefined; // else a damaged entry
  } catch {
    return undefined;
  }
}

function store(key, output) {
  try {
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const tmp = path.join(cacheDir, `.${key}.${process.pid}.${crypto.randomBytes(4).toString("hex")}`);
    fs.writeFileSync(tmp, `${output}\n//umlab-ts-cache-end\n`, { mode: 0o600, flag: "wx" });
    fs.renameSync(tmp, path.join(cacheDir, `${key}.js`));
  } catch {
    /* a cache that cannot be written only costs the next run a compile */
  }
}

// --- stack traces: cached files' positions mapped back to their .ts lines -------------------
const nodeStackTrace = Error.prepareStackTrace; // Node's own (undefined before Node 20.x)
const outputs = new Map(); // .ts path -> its JavaScript (with the inline source map)
const maps = new Map(); // .ts path -> Module.SourceMap | null, parsed on first use

function sourceMapOf(file) {
  if (!maps.has(file)) {
    const m = /\/\/# sourceMappingURL=data:application\/json;charset=utf-8;base64,([A-Za-z0-9+/=]+)/.exec(
      outputs.get(file) || "",
    );
    let sm = null;
    try {
      if (m) sm = new Module.SourceMap(JSON.parse(Buffer.from(m[1], "base64").toString("utf8")));
    } catch {
      sm = null;
    }
    maps.set(file, sm);
  }
  return maps.get(file);
}

function frameText(frame) {
  const text = String(frame);
  const file = frame.getFileName && frame.getFileName();
  if (!file || !outputs.has(file)) return text;
  const line = frame.getLineNumber();
  const col = frame.getColumnNumber();
  const sm = sourceMapOf(file);
  const entry = sm && line && col ? sm.findEntry(line - 1, col - 1) : undefined;
  if (!entry || entry.originalLine === undefined) return text;
  return text.replace(
    `${file}:${line}:${col}`,
    `${file}:${entry.originalLine + 1}:${entry.originalColumn + 1}`,
  );
}

function umlabPrepareStackTrace(error, frames) {
  let head;
  try {
    head = Error.prototype.toString.call(error);
  } catch {
    head = "Error";
  }
  return head + frames.map((f) => `\n    at ${frameText(f)}`).join("");
}

// --- the require hook ------------------------------------------------------------------------
function load(module, filename) {
  const s = getSettings();
  const source = fs.readFileSync(filename, "utf8");
  if (s.bypass) {
    module._compile(compiler().compile(source, filename), filename);
    return;
  }
  const key = crypto
    .createHash("sha256")
    .update(s.salt)
    .update("\0")
    .update(filename)
    .update("\0")
    .update(source)
    .digest("hex");
  let output = cached(key);
  if (output === undefined) {
    output = compiler().compile(source, filename);
    store(key, output);
  }
  outputs.set(filename, output);
  // Ours in place of Node's default (Node 20.20 has one) and of source-map-support's, which
  // Pulumi's cmd/run installs: that one maps every frame of every stack through the SDK's
  // .js.map files, and the SDK takes a whole stack for each resource it registers (about
  // 0.2 CPU-s per run for the quickstart); it cannot map the program's cached .ts files at all.
  // A handler the program itself installs later is left alone.
  const current = Error.prepareStackTrace;
  if (current === nodeStackTrace || (typeof current === "function" && current.name === "prepareStackTrace"))
    Error.prepareStackTrace = umlabPrepareStackTrace;
  module._compile(output, filename);
}

// Pulumi's cmd/run loads source-map-support/register first thing; it would map every frame of
// every stack through the SDK's .js.map files (the SDK formats a stack for each resource and
// each debuggable promise), and cannot map the program's cached .ts files anyway. Ours maps
// those and leaves the SDK's frames as V8 prints them. So that module is taken as loaded.
function skipSourceMapSupport() {
  const run = process.argv[1];
  if (!run || !/[\\/]@pulumi[\\/]pulumi[\\/]cmd[\\/]run$/.test(run)) return;
  try {
    const file = require.resolve("source-map-support/register", { paths: [run] });
    const stub = new Module(file);
    stub.filename = file;
    stub.loaded = true;
    require.cache[file] = stub;
    if (Error.prepareStackTrace === nodeStackTrace) Error.prepareStackTrace = umlabPrepareStackTrace;
  } catch {
    /* not installed where cmd/run would find it: nothing to skip */
  }
}
if (cacheDir) skipSourceMapSupport();

for (const ext of EXTENSIONS) {
  const jsHandler = require.extensions[".js"];
  require.extensions[ext] = function umlabTs(module, filename) {
    // As ts-node: files under node_modules are not compiled (their packages ship JavaScript).
    if (/[\\/]node_modules[\\/]/.test(filename)) return jsHandler(module, filename);
    return load(module, filename);
  };
}

module.exports = { VERSION };
