// umlab new <dir> [--template quickstart|ospf-ring|clone] [--name <project>] [--umlab <spec>]:
// a lab folder that works at once (`npm install && npm run up`): Pulumi.yaml, package.json,
// tsconfig.json, the program (the repo's example, importing "umlab"), a README, .gitignore,
// and umlab's patches of @pulumi/pulumi (patches/, applied by the folder's postinstall as in
// this repository: the lazy typescript/arborist loads that save about 0.6 s of every run).
// It is written to a temporary folder beside <dir> and renamed into place when complete.
import * as fs from "fs";
import * as path from "path";
import { UsageError } from "./args";
import { PACKAGE_ROOT } from "./toolchain";

export const TEMPLATES: Record<string, { files: string[]; description: string }> = {
  quickstart: { files: ["index.ts"], description: "one switch, three busybox guests (10.0.0.1-3/24)" },
  "ospf-ring": {
    files: ["index.ts", "ring.ts"],
    description: "four FRR routers in an OSPF ring (Debian image)",
  },
  clone: {
    files: ["index.ts"],
    description: "the quickstart lab, snapshotted and cloned (one stack per student)",
  },
};

export interface NewArgs {
  dir: string;
  template: string;
  name: string;
  /** What the lab's package.json says for umlab: a path, a tarball, a git URL, a version. */
  umlab: string;
}

export function parseNewArgs(args: string[]): NewArgs {
  let dir: string | undefined;
  const opts: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^--(template|name|umlab)(?:=(.*))?$/.exec(a);
    if (m) {
      const v = m[2] ?? args[++i];
      if (v === undefined) throw new UsageError(`--${m[1]} needs a value`);
      opts[m[1]] = v;
    } else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else if (dir === undefined) dir = a;
    else throw new UsageError(`unexpected argument "${a}"`);
  }
  if (!dir) throw new UsageError("new: name the folder to create (umlab new <dir>)");
  const template = opts.template ?? "quickstart";
  if (!TEMPLATES[template])
    throw new UsageError(
      `--template: no template "${template}"; use one of: ${Object.keys(TEMPLATES).join(", ")}`,
    );
  const name = opts.name ?? path.basename(path.resolve(dir));
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name))
    throw new UsageError(`--name: "${name}" is not a project name: use letters, digits, '-', '_' and '.'`);
  return { dir: path.resolve(dir), template, name, umlab: opts.umlab ?? `file:${PACKAGE_ROOT}` };
}

/** umlab's own pins, which a lab folder must match (its patches are for that Pulumi version). */
export interface Pins {
  pulumi: string;
  patchPackage: string;
}

/**
 * The lab folder's files, by relative path (pure: `read` gives a template file's text,
 * `patches` umlab's patches of @pulumi/pulumi by file name).
 */
export function labFiles(
  a: NewArgs,
  read: (file: string) => string,
  pins: Pins,
  patches: Record<string, string> = {},
): Record<string, string> {
  const t = TEMPLATES[a.template];
  const out: Record<string, string> = {};
  for (const f of t.files) out[f] = read(f).replace(/from "\.\.\/\.\.\/sdk"/g, 'from "umlab"');
  out["Pulumi.yaml"] =
    `name: ${a.name}\ndescription: umlab ${a.template} lab - ${t.description}\n` +
    "runtime:\n  name: nodejs\n  options:\n    typescript: true\nmain: index.ts\n";
  const patched = Object.keys(patches).length > 0;
  const pkg = {
    name: a.name.toLowerCase(),
    private: true,
    main: "index.ts",
    scripts: {
      up: "umlab pulumi up --refresh --yes",
      preview: "umlab pulumi preview --diff",
      refresh: "umlab pulumi refresh --yes",
      down: "umlab pulumi destroy --yes",
      umlab: "umlab",
      ...(patched ? { postinstall: "patch-package --error-on-fail" } : {}),
    },
    dependencies: { "@pulumi/pulumi": pins.pulumi, umlab: a.umlab },
    // Pulumi's own TypeScript (3.8) cannot compile an ES2022 target: bring a current one.
    devDependencies: {
      "@types/node": "20.19.43",
      typescript: "5.9.3",
      ...(patched ? { "patch-package": pins.patchPackage } : {}),
    },
  };
  for (const [f, text] of Object.entries(patches)) out[`patches/${f}`] = text;
  out["package.json"] = JSON.stringify(pkg, null, 2) + "\n";
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "commonjs",
      // Pulumi sets moduleResolution nodenext when none is given, which commonjs refuses (TS5110).
      moduleResolution: "node10",
      lib: ["ES2022"],
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
    },
    files: t.files,
  };
  out["tsconfig.json"] = JSON.stringify(tsconfig, null, 2) + "\n";
  out[".gitignore"] = "node_modules/\n.pulumi-state/\n";
  out["README.md"] = [
    `# ${a.name}`,
    "",
    `An umlab lab (${t.description}), made by \`umlab new --template ${a.template}\`.`,
    "",
    "```sh",
    "npm install        # umlab, Pulumi's SDK, TypeScript",
    "npx umlab setup    # once per user: the Pulumi CLI umlab uses (a few minutes)",
    "npm run up         # boot the lab (state in .pulumi-state/, stack dev)",
    "npm run umlab -- ls                          # the guests",
    "npm run umlab -- exec g1 -- ip addr          # a command in a guest",
    "npm run preview    # what a change to index.ts would do",
    "npm run down       # stop everything; nothing is left behind",
    "```",
    "",
    "`npm run umlab -- pulumi <args>` runs any other Pulumi command with the same environment.",
    "The passphrase of the local state is `umlab-dev` unless PULUMI_CONFIG_PASSPHRASE is set:",
    "it protects nothing, so set your own for anything but a throwaway lab.",
    "",
  ].join("\n");
  return out;
}

export async function cmdNew(args: string[]): Promise<number> {
  const a = parseNewArgs(args);
  if (fs.existsSync(a.dir) && fs.readdirSync(a.dir).length > 0)
    throw new UsageError(`new: ${a.dir} exists and is not empty: name a new folder`);
  const src = path.join(PACKAGE_ROOT, "examples", a.template);
  const own = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as {
    devDependencies: Record<string, string>;
  };
  const pins = {
    pulumi: own.devDependencies["@pulumi/pulumi"],
    patchPackage: own.devDependencies["patch-package"],
  };
  const patchDir = path.join(PACKAGE_ROOT, "patches");
  const patches: Record<string, string> = {};
  for (const f of fs.existsSync(patchDir) ? fs.readdirSync(patchDir) : [])
    if (f.startsWith("@pulumi+pulumi+")) patches[f] = fs.readFileSync(path.join(patchDir, f), "utf8");
  const files = labFiles(a, (f) => fs.readFileSync(path.join(src, f), "utf8"), pins, patches);
  fs.mkdirSync(path.dirname(a.dir), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(path.dirname(a.dir), `.${path.basename(a.dir)}.tmp-`));
  try {
    for (const [f, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true });
      fs.writeFileSync(path.join(tmp, f), text);
    }
    fs.rmSync(a.dir, { recursive: true, force: true }); // an empty folder the user made
    fs.renameSync(tmp, a.dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  console.log(`umlab: made ${a.dir} (${a.template}). Next:\n  cd ${a.dir}\n  npm install\n  npm run up`);
  return 0;
}
