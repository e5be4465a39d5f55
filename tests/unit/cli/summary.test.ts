// umlab summary: the JSON of real `pulumi preview --json` / `refresh --preview-only --json` runs
// of our resources (tests/fixtures/gitops/, captured from a busybox lab; stackTrace and
// sourcePosition removed) as a markdown summary per resource, naming the changed fields and the
// policy's why; secrets never shown; bad input refused naming what to give.
import * as fs from "fs";
import * as path from "path";
import {
  changedPaths,
  kindOf,
  renderMarkdown,
  show,
  summarize,
  summaryMarkdown,
  SummaryInputError,
  whyOf,
} from "../../../cli/preview-summary";
import { parseSummaryArgs } from "../../../cli/summary";
import { UNKNOWN } from "../../../provider/core/unknown";

const fixture = (f: string) => fs.readFileSync(path.join(__dirname, "../../fixtures/gitops", f), "utf8");

describe("umlab summary of real previews", () => {
  test("a change: creates, an in-place update and a replace with their fields and why, deletes", () => {
    const sum = summarize(JSON.parse(fixture("preview-change.json")));
    expect(sum.stack).toBe("h15o-fx");
    expect(sum.refresh).toBe(false);
    // The same counts as Pulumi's own changeSummary (the stack and the provider left out).
    expect(sum.counts).toEqual({ create: 2, update: 1, replace: 1, delete: 2 });
    const byName = Object.fromEntries(sum.changes.map((c) => [c.name, c]));
    expect(byName.g2.op).toBe("update");
    expect(byName.g2.fields).toEqual([
      {
        path: "nics[0].addresses[0]",
        old: "10.0.0.2/24",
        new: "10.0.0.22/24",
        replaces: false,
        why: "in place: ip addr flush/add in the guest",
      },
    ]);
    expect(byName.g1.op).toBe("replace");
    expect(byName.g1.fields.map((f) => [f.path, f.replaces])).toEqual([["memory", true]]);
    expect(byName.g4.op).toBe("create");
    expect(byName["g3-root"].op).toBe("delete");

    const md = renderMarkdown(sum);
    expect(md).toContain("### umlab: pulumi preview of stack `h15o-fx`");
    expect(md).toContain("**2 create, 1 update, 1 replace, 2 delete**");
    expect(md).toContain(
      '- **update in place** Guest `g2`\n  - `nics[0].addresses[0]`: `"10.0.0.2/24"` → `"10.0.0.22/24"` (in place: ip addr flush/add in the guest)',
    );
    expect(md).toContain(
      '- **replace** Guest `g1`\n  - `memory`: `"64M"` → `"96M"` (replace: mem= on the kernel command line)',
    );
    // Nothing of the unchanged resources, the stack or the provider.
    for (const n of ["sw0", "busybox", "lab-runtime", "g2-root", "pulumi:providers"])
      expect(md).not.toContain(n);
  });

  test("a new stack: every resource a create, the Lab component by its short name", () => {
    const sum = summarize(JSON.parse(fixture("preview-new-stack.json")));
    expect(sum.counts).toEqual({ create: 10 });
    expect(sum.changes.find((c) => c.name === "lab")?.kind).toBe("Lab");
    expect(sum.changes.every((c) => c.fields.length === 0)).toBe(true);
  });

  test("a refresh preview: the killed guest is gone; nothing else drifted", () => {
    const sum = summarize(JSON.parse(fixture("refresh-drift.json")));
    expect(sum.refresh).toBe(true);
    expect(sum.changes).toEqual([{ op: "gone", kind: "Guest", name: "g2", fields: [] }]);
    const md = renderMarkdown(sum);
    expect(md).toContain("drift check");
    expect(md).toContain(
      "**gone from the host (no longer running; the next `pulumi up` recreates it)** Guest `g2`",
    );
  });

  test("the same lab with the dead guest's step made a refresh: no drift", () => {
    const doc = JSON.parse(fixture("refresh-drift.json"));
    for (const st of doc.steps)
      if (st.op === "delete") Object.assign(st, { op: "refresh", newState: st.oldState });
    expect(summaryMarkdown(JSON.stringify(doc))).toContain("No drift");
  });
});

describe("the parts", () => {
  test("changedPaths: leaf paths; secrets compared whole and never opened; unknowns as a leaf", () => {
    expect(changedPaths({ a: [1, { b: 2 }], c: 3 }, { a: [1, { b: 5 }, 7], c: 3 })).toEqual([
      { path: "a[1].b", old: 2, new: 5 },
      { path: "a[2]", old: undefined, new: 7 },
    ]);
    const secret = (v: string) => ({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: v,
    });
    expect(changedPaths({ p: secret("x") }, { p: secret("y") })).toEqual([
      { path: "p", old: secret("x"), new: secret("y") },
    ]);
    expect(changedPaths({ p: "a" }, { p: UNKNOWN })).toEqual([{ path: "p", old: "a", new: UNKNOWN }]);
  });

  test("show: a secret's value never printed; unknown named; long values cut; backticks defused", () => {
    const secret = {
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: "hunter2",
    };
    expect(show(secret)).toBe("[secret]");
    expect(show(UNKNOWN)).toBe("(known after apply)");
    expect(show("x".repeat(200)).length).toBeLessThanOrEqual(62);
    expect(show("a`b")).toBe('`"a\'b"`');
    const md = renderMarkdown({
      stack: "s",
      refresh: false,
      counts: { update: 1 },
      changes: [
        {
          op: "update",
          kind: "Exec",
          name: "e",
          fields: [{ path: "env.TOKEN", old: secret, new: secret, replaces: false }],
        },
      ],
    });
    expect(md).not.toContain("hunter2");
  });

  test("whyOf: the policy table of the component, NIC fields from the NIC table; unknown kinds none", () => {
    expect(whyOf("Guest", "memory")).toBe("replace: mem= on the kernel command line");
    expect(whyOf("Guest", "nics[1].mac")).toBe("replace: the MAC is set when UML plugs the NIC");
    expect(whyOf("Guest", "paused")).toBe("in place: mconsole stop/go");
    expect(whyOf("aws:s3:Bucket", "acl")).toBeUndefined();
    expect(kindOf("pulumi-nodejs:dynamic/umlab:CowDisk")).toBe("CowDisk");
    expect(kindOf("aws:s3:Bucket")).toBe("aws:s3:Bucket");
  });

  test("many changed fields are cut with a count", () => {
    const fields = Array.from({ length: 12 }, (_, i) => ({
      path: `f${i}`,
      old: i,
      new: i + 1,
      replaces: false,
    }));
    const md = renderMarkdown({
      stack: "s",
      refresh: false,
      counts: { update: 1 },
      changes: [{ op: "update", kind: "X", name: "x", fields }],
    });
    expect(md).toContain("… and 4 more fields");
    expect(md).not.toContain("`f8`");
  });

  test("bad input is refused naming what to give", () => {
    expect(() => summaryMarkdown("not json")).toThrow(/not JSON .*pulumi preview --json/);
    expect(() => summaryMarkdown("{}")).toThrow(/no "steps" array/);
    expect(() => summaryMarkdown('{"steps":[{"op":"create"}]}')).toThrow(/no "op" or "urn"/);
    expect(() => summaryMarkdown('{"steps":[{"op":"create","urn":"nope"}]}')).toThrow(SummaryInputError);
    expect(summaryMarkdown('{"steps":[]}')).toContain("No changes.");
  });

  test("arguments: a file or stdin, --title; unknown options refused", () => {
    expect(parseSummaryArgs([])).toEqual({ file: "-", title: undefined });
    expect(parseSummaryArgs(["p.json", "--title", "T"])).toEqual({ file: "p.json", title: "T" });
    expect(() => parseSummaryArgs(["--json"])).toThrow(/unknown option --json/);
    expect(() => parseSummaryArgs(["a", "b"])).toThrow(/unexpected argument "b"/);
    expect(() => parseSummaryArgs(["--title"])).toThrow(/--title needs a value/);
  });
});
