// Only provider/host/ starts or signals processes: everything else goes through it, so one
// place decides argv (never a shell string), sessions, logs and pid-reuse checks.
import * as fs from "fs";
import * as path from "path";

const REPO = path.resolve(__dirname, "../../..");

function sources(dir: string): string[] {
  return (fs.readdirSync(path.join(REPO, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts"))
    .map((f) => path.join(dir, f));
}

const FORBIDDEN: [RegExp, string][] = [
  [/require\(["']child_process["']\)|from ["']child_process["']/, "child_process"],
  [/require\(["']execa["']\)|from ["']execa["']|import execa/, "execa"],
  [/process\.kill\(/, "process.kill"],
];

describe("layering", () => {
  test("nothing outside provider/host/ spawns a process or calls process.kill", () => {
    const offenders: string[] = [];
    for (const f of [...sources("provider"), ...sources("cli"), ...sources("sdk")]) {
      if (f.startsWith(path.join("provider", "host") + path.sep)) continue;
      const text = fs.readFileSync(path.join(REPO, f), "utf8");
      for (const [re, what] of FORBIDDEN) if (re.test(text)) offenders.push(`${f}: ${what}`);
    }
    expect(offenders).toEqual([]);
  });

  test("nothing under provider/ or cli/ is much above 300 lines", () => {
    const long = [...sources("provider"), ...sources("cli")]
      .map((f) => [f, fs.readFileSync(path.join(REPO, f), "utf8").split("\n").length] as const)
      .filter(([, n]) => n > 320)
      .map(([f, n]) => `${f}: ${n} lines`);
    expect(long).toEqual([]);
  });
});
