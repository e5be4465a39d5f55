// Who depends on a backing file, and the in-place merge decision: refused naming every
// dependent (lab, guest, file), refused for a cache image, allowed only when nothing else
// depends on the backing.
import fc from "fast-check";
import {
  dependentsOf,
  describeDependent,
  guestOfDisk,
  inPlaceDecision,
  type CowFact,
} from "../../../provider/disk/dependents";

const fact = (lab: string, guest: string, backingId: string, n = guest): CowFact => ({
  lab: `/var/tmp/umlab-0/${lab}`,
  guest,
  file: `/var/tmp/umlab-0/${lab}/disk/${n}-root.cow`,
  backing: `/cache/images/${backingId}.img`,
  fileId: `9:${lab}-${n}`,
  backingId,
});

describe("COW dependents and the in-place merge decision", () => {
  const facts = [
    fact("q-dev-1", "node01", "B"),
    fact("q-dev-1", "node02", "B"),
    fact("q-dev-1", "node03", "OTHER"),
    fact("q-alice-2", "node02", "B"),
  ];

  test("the other COW files over the same backing, not the merged one, not other backings", () => {
    const deps = dependentsOf("B", "9:q-dev-1-node01", facts);
    expect(deps.map((d) => d.fileId)).toEqual(["9:q-alice-2-node02", "9:q-dev-1-node02"]);
    // The same file found twice (two roots naming one dir) counts once.
    expect(dependentsOf("B", "x", [...facts, facts[1]]).length).toBe(3);
  });

  test("refused naming each dependent's lab, guest and file; and how to merge instead", () => {
    const deps = dependentsOf("B", "9:q-dev-1-node01", facts);
    const d = inPlaceDecision({
      cow: facts[0].file,
      backing: "/b.img",
      dependents: deps,
      backingInCache: false,
    });
    expect(d.ok).toBe(false);
    const msg = (d as { message: string }).message;
    expect(msg).toContain("2 other COW file(s) depend on it");
    expect(msg).toContain("lab q-alice-2, guest node02: /var/tmp/umlab-0/q-alice-2/disk/node02-root.cow");
    expect(msg).toContain("lab q-dev-1, guest node02: /var/tmp/umlab-0/q-dev-1/disk/node02-root.cow");
    expect(msg).toContain(`umlab merge ${facts[0].file}`);
  });

  test("a cache image or an open backing is refused even without dependents; else allowed", () => {
    const base = { cow: "/l/disk/a.cow", backing: "/b.img", dependents: [] };
    expect(inPlaceDecision({ ...base, backingInCache: true })).toMatchObject({
      ok: false,
      message: expect.stringContaining("published image in the image cache"),
    });
    expect(inPlaceDecision({ ...base, backingInCache: false, openBy: ["77 (linux.uml)"] })).toMatchObject({
      ok: false,
      message: expect.stringContaining("open in process 77 (linux.uml)"),
    });
    expect(inPlaceDecision({ ...base, backingInCache: false })).toEqual({ ok: true });
  });

  test("a dependent outside any lab, or of an unknown guest, is still named", () => {
    expect(describeDependent({ ...facts[0], lab: "", guest: "" })).toBe(
      `no lab, guest (unknown): ${facts[0].file}`,
    );
  });

  test("a disk's guest: its own name, else the longest guest it is prefixed by", () => {
    expect(guestOfDisk("r1-a-root", ["r1", "r1-a", "r1-ab"])).toBe("r1-a");
    expect(guestOfDisk("g10-root", ["g1", "g10"])).toBe("g10");
    expect(guestOfDisk("data", ["data", "g1"])).toBe("data");
    expect(guestOfDisk("scratch", ["g1"])).toBe("");
  });

  test("property: refused exactly when another file shares the backing (or it is in the cache)", () => {
    const arb = fc.array(
      fc.record({
        lab: fc.constantFrom("a", "b"),
        guest: fc.constantFrom("g1", "g2", "g3"),
        b: fc.constantFrom("B", "C"),
      }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(arb, fc.boolean(), (rows, inCache) => {
        const fs = rows.map((r) => fact(r.lab, r.guest, r.b));
        const cow = fact("a", "g1", "B");
        const deps = dependentsOf("B", cow.fileId, fs);
        expect(deps.every((d) => d.backingId === "B" && d.fileId !== cow.fileId)).toBe(true);
        const others = new Set(
          fs.filter((f) => f.backingId === "B" && f.fileId !== cow.fileId).map((f) => f.fileId),
        );
        expect(deps.length).toBe(others.size);
        const d = inPlaceDecision({
          cow: cow.file,
          backing: "/b",
          dependents: deps,
          backingInCache: inCache,
        });
        expect(d.ok).toBe(others.size === 0 && !inCache);
        if (!d.ok) for (const x of deps) expect(d.message).toContain(x.file);
      }),
    );
  });
});
