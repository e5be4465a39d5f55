// The CLI's guest lookup: a stack the user names (--stack, $UMLAB_STACK) confines it to that
// stack's labs; without one, the runtime root is the fallback.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as naming from "../../../provider/core/naming";
import { findGuest } from "../../../cli/labs";

describe("umlab CLI: which lab a guest is in", () => {
  let root: string;
  let labA: string;
  let labB: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-labs-"));
    labA = path.join(root, "q-s1-aaaaaa");
    labB = path.join(root, "q-s2-bbbbbb");
    for (const [lab, guests] of [
      [labA, ["g1", "only-a"]],
      [labB, ["g1"]],
    ] as const)
      for (const g of guests) fs.mkdirSync(naming.guestPaths(lab, g).dir, { recursive: true, mode: 0o700 });
    for (const d of [labA, labB]) fs.chmodSync(d, 0o700);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test("the named stack's lab, though another lab has a guest of the same name", () => {
    expect(findGuest("g1", undefined, root, [{ stack: "s2", dir: labB }], "s2")).toBe(labB);
    expect(findGuest("g1", undefined, root, [{ stack: "s1", dir: labA }], "s1")).toBe(labA);
  });

  test("a guest of another stack is not reached through --stack: the error names the stack and its guests", () => {
    expect(() => findGuest("only-a", undefined, root, [{ stack: "s2", dir: labB }], "s2")).toThrow(
      'no guest "only-a" in stack "s2" (its guests: g1)',
    );
    expect(() => findGuest("g1", undefined, root, [], "s3")).toThrow(/stack "s3" records no lab here/);
  });

  test("without a named stack, the root is the fallback (one lab has it) and ambiguity is refused", () => {
    expect(findGuest("only-a", undefined, root, [{ stack: "s2", dir: labB }])).toBe(labA);
    expect(() => findGuest("g1", undefined, root, [])).toThrow(/in several labs/);
  });
});
