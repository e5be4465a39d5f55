// `umlab export` / `umlab import` arguments.
import { parseShareArgs } from "../../../cli/share";

describe("umlab export / import arguments", () => {
  test("positionals and options", () => {
    expect(parseShareArgs("export", ["--images", "/s", "a.tgz"])).toEqual({
      from: "/s",
      to: "a.tgz",
      images: true,
      up: false,
    });
    expect(parseShareArgs("export", ["--program", "/lab", "--stack", "t", "/s", "a.tgz"])).toMatchObject({
      program: "/lab",
      stack: "t",
    });
    expect(parseShareArgs("import", ["--cache", "/c", "a.tgz", "/d"]).cache).toBe("/c");
    expect(parseShareArgs("import", ["--up", "--stack", "s1", "a.tgz", "/d"])).toMatchObject({
      up: true,
      stack: "s1",
      from: "a.tgz",
      to: "/d",
    });
    expect(() => parseShareArgs("import", ["--images", "a", "b"])).toThrow(/unknown option --images/);
    expect(() => parseShareArgs("export", ["--up", "a", "b"])).toThrow(/unknown option --up/);
    expect(() => parseShareArgs("import", ["--program", "p", "a", "b"])).toThrow(/unknown option --program/);
    expect(() => parseShareArgs("export", ["/s"])).toThrow(/give the snapshot directory and the archive/);
    expect(() => parseShareArgs("import", ["--cache"])).toThrow(/--cache needs a value/);
    // An option where a value belongs is not taken as the value.
    expect(() => parseShareArgs("import", ["--stack", "--up", "a", "b"])).toThrow(/--stack needs a value/);
  });
});
