// Serialization check, run in plain node (not Jest: Jest's VM breaks Pulumi's closure
// serializer). Pulumi stores each dynamic provider in state as the text of a module that
// re-creates it; a handler that captures something unserializable (a native handle, a
// socket, an ESM-only module) would make `pulumi up` fail for real users. This check
// serializes every provider exported from provider/*.ts exactly as @pulumi/pulumi does,
// loads the text back the way the dynamic-provider host does, and checks the handlers
// survived. Run: node dist/tests/serialization/check.js
import * as fs from "fs";
import * as path from "path";

const requireFromString = require("require-from-string");
const { serializeFunction } = require("@pulumi/pulumi/runtime/closure/serializeClosure");

const HANDLERS = ["check", "diff", "create", "read", "update", "delete"];

function isProvider(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && typeof (v as any).create === "function";
}

async function main(): Promise<void> {
  const providerDir = path.resolve(__dirname, "../../provider");
  const files = (fs.readdirSync(providerDir, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".js"))
    .sort();
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const mod = require(path.join(providerDir, file));
    for (const [name, value] of Object.entries(mod)) {
      if (!isProvider(value)) continue;
      const label = `provider/${file.replace(/\.js$/, "")}.${name}`;
      try {
        const sf = await serializeFunction(() => value, { allowSecrets: true });
        const revived = requireFromString(sf.text).handler();
        for (const h of HANDLERS) {
          if (typeof (value as any)[h] === "function" && typeof revived[h] !== "function") {
            throw new Error(`handler ${h} did not survive serialization`);
          }
        }
        console.log(`ok   ${label} (${sf.text.length} bytes serialized)`);
        passed++;
      } catch (e) {
        console.log(`FAIL ${label}: ${(e as Error).message}`);
        failed++;
      }
    }
  }
  if (passed + failed === 0) {
    console.log("FAIL no providers found in provider/");
    failed++;
  }
  console.log(`serialization: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
