// Provider check, run in plain node (not Jest, whose module system is not the one the
// dynamic-provider process uses). Each resource's `__provider` in the Pulumi state is the
// one-line text of sdk/resource.ts providerText(); the dynamic-provider process evaluates it
// with require-from-string from the program's folder and calls its handlers. This check does
// exactly that, from a lab program's folder, for every provider name, and checks that every
// name the SDK uses is registered (a typo would fail only at `pulumi up`).
// Run: node dist/tests/serialization/check.js
import * as fs from "fs";
import * as path from "path";
import { PROVIDER_NAMES } from "../../provider";
import { providerText } from "../../sdk/resource";

const requireFromString = require("require-from-string");

const REPO = path.resolve(__dirname, "../../..");
const HANDLERS = ["check", "diff", "create", "read", "delete"];

function sdkProviderNames(): string[] {
  const dir = path.join(REPO, "sdk");
  const names = new Set<string>();
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    const text = fs.readFileSync(path.join(dir, f), "utf8");
    for (const m of text.matchAll(/super\(\s*"(\w+Provider)"/g)) names.add(m[1]);
  }
  return [...names].sort();
}

function main(): void {
  let passed = 0;
  let failed = 0;
  // The dynamic-provider process runs in the program's folder; resolve from one of ours.
  process.chdir(path.join(REPO, "tests/fixtures/automation-lab"));
  for (const name of PROVIDER_NAMES) {
    try {
      const text = providerText(name);
      const revived = requireFromString(text, "").handler();
      const missing = HANDLERS.filter((h) => typeof revived[h] !== "function");
      if (missing.length) throw new Error(`handlers missing: ${missing.join(", ")}`);
      console.log(`ok   provider ${name} (${text.length} bytes in the state)`);
      passed++;
    } catch (e) {
      console.log(`FAIL provider ${name}: ${(e as Error).message}`);
      failed++;
    }
  }
  const used = sdkProviderNames();
  const unknown = used.filter((n) => !(PROVIDER_NAMES as string[]).includes(n));
  if (used.length === 0 || unknown.length > 0) {
    console.log(
      `FAIL the SDK names providers that are not registered: ${unknown.join(", ") || "(none found)"}`,
    );
    failed++;
  } else {
    console.log(`ok   the SDK's ${used.length} provider names are all registered`);
    passed++;
  }
  console.log(`serialization: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
