// A lab's program as carried in a shared archive (archive.ts): the lab folder's Pulumi.yaml,
// its sources (.ts/.js, package.json, package-lock.json, tsconfig.json; never node_modules,
// dot folders such as .pulumi-state, or dist/) and one stack's config, each with its sha256 in
// `program.json`. Reads and writes files; starts no process.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export const PROGRAM_DIR = "program";
export const PROGRAM_INDEX = "program.json";
/** The stack config inside `program/` (renamed `Pulumi.<stack>.yaml` on import). */
export const STACK_CONFIG = "stack-config.yaml";
const MAX_FILES = 500;

export interface ProgramIndex {
  /** The stack whose config is carried (and the default stack name on import). */
  stack: string;
  /** Relative path (inside `program/`) → sha256. */
  files: Record<string, string>;
}

const SOURCE =
  /(\.(ts|js|mjs|cjs|mts|cts)|^package\.json|^package-lock\.json|^tsconfig\.json|^Pulumi\.yaml)$/;
const SKIP = new Set(["node_modules", "dist"]);

const sha = (f: string) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");

/** The program files of the lab folder `dir`, relative; refuses a folder without Pulumi.yaml. */
export function programFiles(dir: string): string[] {
  if (!fs.existsSync(path.join(dir, "Pulumi.yaml")))
    throw new Error(
      `export: ${dir} has no Pulumi.yaml: run in the lab's folder or give --program <lab folder>`,
    );
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name.startsWith(".") || SKIP.has(e.name)) continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && SOURCE.test(e.name) && !e.name.endsWith(".d.ts")) out.push(r);
      if (out.length > MAX_FILES)
        throw new Error(`export: ${dir} holds more than ${MAX_FILES} program files: is it the lab's folder?`);
    }
  };
  walk("");
  return out.sort();
}

/** Copy the program of `dir` and the config of `stack` into `<stage>/program`; write the index. */
export function stageProgram(dir: string, stack: string, stage: string): ProgramIndex {
  const to = path.join(stage, PROGRAM_DIR);
  const index: ProgramIndex = { stack, files: {} };
  const add = (from: string, rel: string) => {
    fs.mkdirSync(path.dirname(path.join(to, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(to, rel));
    index.files[rel] = sha(from);
  };
  for (const f of programFiles(dir)) add(path.join(dir, f), f);
  const config = path.join(dir, `Pulumi.${stack}.yaml`);
  if (fs.existsSync(config)) add(config, STACK_CONFIG);
  fs.writeFileSync(path.join(stage, PROGRAM_INDEX), JSON.stringify(index, null, 2) + "\n");
  return index;
}

/** Read `program.json` of an extracted archive and check every file's hash; the index. */
export function verifyProgram(root: string, archive: string): ProgramIndex {
  let index: ProgramIndex;
  try {
    index = JSON.parse(fs.readFileSync(path.join(root, PROGRAM_INDEX), "utf8")) as ProgramIndex;
  } catch (e) {
    throw new Error(
      `import: ${archive} has no readable ${PROGRAM_INDEX} (${(e as Error).message}): not a lab archive of this umlab`,
    );
  }
  if (typeof index?.stack !== "string" || !/^[A-Za-z0-9_.-]{1,100}$/.test(index.stack))
    throw new Error(`import: ${archive}: ${PROGRAM_INDEX}: stack is not a stack name`);
  const files = Object.entries(index.files ?? {});
  if (!files.some(([f]) => f === "Pulumi.yaml"))
    throw new Error(`import: ${archive}: ${PROGRAM_INDEX} lists no Pulumi.yaml`);
  for (const [rel, want] of files) {
    if (rel.split("/").some((p) => p === ".." || p === "" || p.startsWith(".")))
      throw new Error(`import: ${archive}: ${PROGRAM_INDEX} names ${rel}: not a program file`);
    const f = path.join(root, PROGRAM_DIR, rel);
    if (!fs.lstatSync(f, { throwIfNoEntry: false })?.isFile())
      throw new Error(`import: ${archive}: program/${rel} is missing`);
    const got = sha(f);
    if (got !== want)
      throw new Error(
        `import: ${archive}: program/${rel} has sha256 ${got}, ${PROGRAM_INDEX} says ${want}: damaged`,
      );
  }
  return index;
}

/** Stack config text with `umlab:restoreFrom` set to `dir` (any earlier value replaced). */
export function withRestoreFrom(text: string | undefined, dir: string): string {
  const line = `  umlab:restoreFrom: ${JSON.stringify(dir)}`;
  const lines = (text ?? "")
    .split("\n")
    .filter((l) => !/^\s+umlab:restoreFrom:/.test(l))
    .map((l) => (/^config:\s*\{\}\s*$/.test(l) ? "config:" : l));
  const at = lines.findIndex((l) => /^config:\s*$/.test(l));
  if (at >= 0) lines.splice(at + 1, 0, line);
  else {
    while (lines.length && lines[lines.length - 1] === "") lines.pop();
    lines.push("config:", line);
  }
  return lines.join("\n").replace(/\n*$/, "\n");
}
