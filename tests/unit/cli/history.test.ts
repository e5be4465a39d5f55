// umlab history: entries of the file backend's checkpoint history read and listed, newest
// first, with the git commit and the guests of each checkpoint; damaged entries skipped; the
// note says what a prior state cannot restore.
import { formatHistory, historyDir, historyRow } from "../../../cli/history";

const entry = (
  startTime: number,
  head: string,
  dirty = false,
  changes: Record<string, number> = { create: 3 },
) => ({
  kind: "update",
  startTime,
  result: "succeeded",
  resourceChanges: changes,
  environment: { "git.head": head, "git.dirty": String(dirty) },
});
const checkpoint = (guests: string[]) => ({
  version: 3,
  checkpoint: {
    latest: {
      resources: [
        { type: "pulumi:pulumi:Stack", urn: "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev" },
        ...guests.map((g) => ({
          type: "pulumi-nodejs:dynamic/umlab:Guest",
          urn: `urn:pulumi:dev::p::pulumi-nodejs:dynamic/umlab:Guest::${g}`,
        })),
        {
          type: "pulumi-nodejs:dynamic/umlab:CowDisk",
          urn: "urn:pulumi:dev::p::pulumi-nodejs:dynamic/umlab:CowDisk::g1-root",
        },
      ],
    },
  },
});

describe("umlab history", () => {
  test("rows: changes, git commit, the checkpoint's guests; damaged entries give none", () => {
    const r = historyRow("dev-2", entry(200, "abcdef0123456789"), {
      file: "/s/dev-2.checkpoint.json",
      json: checkpoint(["r1", "g1"]),
    });
    expect(r).toMatchObject({
      id: "dev-2",
      result: "succeeded",
      gitHead: "abcdef0123456789",
      gitDirty: false,
      guests: ["g1", "r1"],
    });
    expect(historyRow("x", null)).toBeUndefined();
    expect(historyRow("x", { kind: "update" })).toBeUndefined();
    expect(historyRow("x", "garbage")).toBeUndefined();
    expect(historyRow("x", entry(1, "h"), { file: "f", json: { nonsense: true } })?.guests).toEqual([]);
  });

  test("listed newest first, with what a prior state can and cannot restore", () => {
    const rows = [
      historyRow("dev-1", entry(100, "1111111111111111"), {
        file: "/s/1.checkpoint.json",
        json: checkpoint(["g1", "g2"]),
      })!,
      historyRow("dev-2", entry(200, "2222222222222222", true, { create: 2, update: 1, same: 5 }))!,
    ];
    const text = formatHistory("dev", "/b/.pulumi/history/p/dev", rows);
    const lines = text.split("\n");
    expect(lines[1]).toMatch(
      /^ {2}#2 1970-01-01 00:03:20 update succeeded {2}\+2 ~1 =5 {2}git 222222222222 \(dirty/,
    );
    expect(lines[3]).toMatch(/^ {2}#1 1970-01-01 00:01:40 update succeeded {2}\+3 {2}git 111111111111$/);
    expect(lines[4]).toBe("      guests: g1 g2; state: /s/1.checkpoint.json");
    expect(text).toContain("only rewrites Pulumi's record");
    expect(text).toContain("Neither restores data");
    expect(formatHistory("dev", "/d", [])).toContain("(no updates recorded)");
  });

  test("the history folder of a file backend; another backend is refused", () => {
    expect(historyDir("file:///nonexistent/state", "p", "dev")).toBe(
      "/nonexistent/state/.pulumi/history/p/dev",
    );
    expect(() => historyDir("s3://bucket", "p", "dev")).toThrow("not a file backend");
  });
});
