// `umlab export` / `umlab import` arguments.
import { parseShareArgs } from "../../../cli/share";

describe("umlab export / import arguments", () => {
  test("positionals and options", () => {
    expect(parseShareArgs("export", ["--images", "/s", "a.tgz"])).toEqual({
      from: "/s",
      to: "a.tgz",
      images: true,
      cache: undefined,
    });
    expect(parseShareArgs("import", ["--cache", "/c", "a.tgz", "/d"]).cache).toBe("/c");
    expect(() => parseShareArgs("import", ["--images", "a", "b"])).toThrow(/unknown option --images/);
    expect(() => parseShareArgs("export", ["/s"])).toThrow(/give the snapshot directory and the archive/);
    expect(() => parseShareArgs("import", ["--cache"])).toThrow(/--cache needs a value/);
  });
});
