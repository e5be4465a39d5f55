#!/usr/bin/env bash
# The whole suite: Jest (unit tests of pure logic, integration tests on real UML guests and
# the real Pulumi engine), then the provider serialization check in plain node (Jest's VM
# breaks Pulumi's closure serializer, so it cannot run inside Jest).
# Extra arguments go to Jest, e.g. `npm test -- tests/unit`.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$_umlab_root"
mkdir -p .umlab-test
REPORT=.umlab-test/jest.json

npx jest --runInBand --json --outputFile="$REPORT" "$@"
jest_rc=$?

node dist/tests/serialization/check.js | tee .umlab-test/serialization.txt
ser_rc=${PIPESTATUS[0]}

node -e '
const fs = require("fs");
let p = 0, f = 0, s = 0;
try {
  const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  p += r.numPassedTests; f += r.numFailedTests + r.numRuntimeErrorTestSuites; s += r.numPendingTests + r.numTodoTests;
} catch (e) { f += 1; console.log("could not read the Jest report: " + e.message); }
const ser = fs.readFileSync(process.argv[2], "utf8").match(/serialization: (\d+) passed, (\d+) failed/);
if (ser) { p += +ser[1]; f += +ser[2]; } else { f += 1; }
console.log("");
console.log(`${p} passed, ${f} failed, ${s} skipped`);
' "$REPORT" .umlab-test/serialization.txt

[ "$jest_rc" = 0 ] && [ "$ser_rc" = 0 ]
