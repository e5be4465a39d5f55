// umlab new: the lab folder it writes (pure part), and its refusals.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { labFiles, parseNewArgs, cmdNew, TEMPLATES } from "../../../cli/new";
import { UsageError } from "../../../cli/args";

const REPO = path.resolve(__dirname, "../../..");
const PINS = { pulumi: "3.248.0", patchPackage: "8.0.1" };
const read = (t: string) => (f: string) => fs.readFileSync(path.join(REPO, "examples", t, f), "utf8");

describe("umlab new", () => {
  test.each(Object.keys(TEMPLATES))("the %s template imports umlab, not the repo's sources", (template) => {
    const files = labFiles(
      parseNewArgs(["/tmp/x/mylab", "--template", template, "--umlab", "file:/u"]),
      read(template),
      PINS,
    );
    expect(Object.keys(files).sort()).toEqual(
      [
        ".gitignore",
        "Pulumi.yaml",
        "README.md",
        "package.json",
        "tsconfig.json",
        ...TEMPLATES[template].files,
      ].sort(),
    );
    for (const f of TEMPLATES[template].files) {
      expect(files[f]).not.toMatch(/\.\.\/\.\.\/sdk/);
      if (f === "index.ts") expect(files[f]).toMatch(/from "umlab"/);
    }
    const pkg = JSON.parse(files["package.json"]);
    expect(pkg.dependencies).toEqual({ "@pulumi/pulumi": "3.248.0", umlab: "file:/u" });
    expect(pkg.devDependencies.typescript).toBe("5.9.3");
    const ts = JSON.parse(files["tsconfig.json"]);
    expect(ts.compilerOptions).toMatchObject({
      target: "ES2022",
      module: "commonjs",
      moduleResolution: "node10",
    });
    expect(files["Pulumi.yaml"]).toMatch(/^name: mylab\n/);
  });

  test("umlab's patches of @pulumi/pulumi go into patches/, applied by the folder's postinstall", () => {
    const patch = "diff --git a/node_modules/@pulumi/pulumi/x.js b/node_modules/@pulumi/pulumi/x.js\n";
    const files = labFiles(parseNewArgs(["/tmp/x/mylab"]), read("quickstart"), PINS, {
      "@pulumi+pulumi+3.248.0.patch": patch,
    });
    expect(files["patches/@pulumi+pulumi+3.248.0.patch"]).toBe(patch);
    const pkg = JSON.parse(files["package.json"]);
    expect(pkg.scripts.postinstall).toBe("patch-package --error-on-fail");
    expect(pkg.devDependencies["patch-package"]).toBe("8.0.1");
    // Without patches, no postinstall and no patch-package.
    const plain = JSON.parse(
      labFiles(parseNewArgs(["/tmp/x/mylab"]), read("quickstart"), PINS)["package.json"],
    );
    expect(plain.scripts.postinstall).toBeUndefined();
    expect(plain.devDependencies["patch-package"]).toBeUndefined();
  });

  test("the pins are umlab's own: the lab's @pulumi/pulumi is the version its patch is for", () => {
    const own = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
    const patches = fs.readdirSync(path.join(REPO, "patches")).filter((f) => f.startsWith("@pulumi+pulumi+"));
    expect(patches).toEqual([`@pulumi+pulumi+${own.devDependencies["@pulumi/pulumi"]}.patch`]);
    expect(own.files).toContain("patches/");
  });

  test("bad arguments name the option and the fix", () => {
    expect(() => parseNewArgs([])).toThrow(/name the folder/);
    expect(() => parseNewArgs(["d", "--template", "nope"])).toThrow(
      /--template: no template "nope"; use one of: quickstart, ospf-ring/,
    );
    expect(() => parseNewArgs(["d", "--name", "a b"])).toThrow(/--name/);
    expect(() => parseNewArgs(["d", "--umlab"])).toThrow(/--umlab needs a value/);
    expect(() => parseNewArgs(["d", "--bogus"])).toThrow(UsageError);
  });

  test("a folder that is not empty is refused and left as it was", async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-new-"));
    try {
      fs.writeFileSync(path.join(d, "keep.txt"), "mine");
      await expect(cmdNew([d])).rejects.toThrow(/exists and is not empty/);
      expect(fs.readdirSync(d)).toEqual(["keep.txt"]);
      expect(
        fs.readdirSync(path.dirname(d)).filter((f) => f.startsWith(`.${path.basename(d)}.tmp-`)),
      ).toEqual([]);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
