import fc from "fast-check";
import {
  autoSizeMb,
  debianMirrorFromSources,
  diffImageInputs,
  explainDebianFailure,
  filterModulesDep,
  HostFacts,
  imageKey,
  ImageSpec,
  moduleClosure,
  normalizeSpec,
  parseModulesDep,
  parseOsRelease,
} from "../../../provider/image/plan";

const host = {
  env: {},
  homedir: "/home/u",
  hostSuite: "bookworm",
  hostMirror: "http://deb.debian.org/debian",
};
const facts: HostFacts = { kernelVersion: "6.1.176", initSha256: "aa" };

function spec(args: Record<string, any>): ImageSpec {
  return normalizeSpec(args as any, host);
}

describe("image cache key", () => {
  test("the same inputs give the same key, whatever the package order", () => {
    const a = spec({ preset: "debian", packages: ["frr", "tcpdump"] });
    const b = spec({ preset: "debian", packages: ["tcpdump", "frr", "frr"] });
    expect(imageKey(a, facts)).toBe(imageKey(b, facts));
  });

  test("every input that decides the bytes changes the key", () => {
    const base = imageKey(spec({ preset: "debian", packages: ["frr"] }), facts);
    const variants = [
      imageKey(spec({ preset: "debian", packages: ["frr", "tcpdump"] }), facts),
      imageKey(spec({ preset: "debian", packages: ["frr"], suite: "trixie" }), facts),
      imageKey(spec({ preset: "debian", packages: ["frr"], mirror: "http://mirror.example/debian" }), facts),
      imageKey(spec({ preset: "debian", packages: ["frr"], sizeMb: 512 }), facts),
      imageKey(spec({ preset: "debian", packages: ["frr"] }), { ...facts, initSha256: "bb" }),
      imageKey(spec({ preset: "debian", packages: ["frr"] }), { ...facts, kernelVersion: "6.1.177" }),
      imageKey(spec({ preset: "busybox" }), facts),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  test("the cache folder is not part of the key", () => {
    expect(imageKey(spec({ cacheDir: "/a" }), facts)).toBe(imageKey(spec({ cacheDir: "/b" }), facts));
  });

  test("a dir's content hash is part of the key", () => {
    const s = spec({ dir: "/srv/root" });
    expect(imageKey(s, { ...facts, sourceHash: "1" })).not.toBe(imageKey(s, { ...facts, sourceHash: "2" }));
  });
});

describe("image spec defaults", () => {
  test("no args means the busybox preset with the default modules", () => {
    const s = spec({});
    expect(s.kind).toBe("busybox");
    expect(s.modules).toEqual(expect.arrayContaining(["dummy", "sch_netem", "softdog", "bonding"]));
    expect(s.cacheDir).toBe("/home/u/.cache/umlab");
  });

  test("UMLAB_CACHE sets the cache folder", () => {
    expect(normalizeSpec({}, { ...host, env: { UMLAB_CACHE: "/c" } }).cacheDir).toBe("/c");
  });

  test("debian gets the host suite and mirror and always kmod, iproute2, procps", () => {
    const s = spec({ preset: "debian", packages: ["frr"] });
    expect(s.suite).toBe("bookworm");
    expect(s.mirror).toBe("http://deb.debian.org/debian");
    expect(s.packages).toEqual(["frr", "iproute2", "kmod", "procps"]);
  });
});

describe("image diff", () => {
  const olds = { preset: "debian", packages: ["frr"], key: "k1", path: "/c/images/k1.img", sha256: "s" };

  test("an unchanged program gives no diff", () => {
    expect(diffImageInputs(olds, { preset: "debian", packages: ["frr"], key: "k1" })).toEqual([]);
  });

  test("any input change replaces", () => {
    expect(diffImageInputs(olds, { preset: "debian", packages: ["frr", "tcpdump"], key: "k2" })).toEqual([
      "packages",
      "key",
    ]);
  });

  test("a changed key alone (new dir content, new init) replaces", () => {
    expect(diffImageInputs(olds, { preset: "debian", packages: ["frr"], key: "k2" })).toEqual(["key"]);
  });
});

describe("host discovery helpers", () => {
  test("os-release codename", () => {
    expect(parseOsRelease('NAME="Debian GNU/Linux"\nVERSION_CODENAME=bookworm\n').VERSION_CODENAME).toBe(
      "bookworm",
    );
  });

  test("mirror from a deb822 sources file skips the security archive", () => {
    const text = [
      "Types: deb",
      "URIs: http://deb.debian.org/debian-security",
      "Suites: bookworm-security",
      "Components: main",
      "",
      "Types: deb",
      "URIs: http://deb.debian.org/debian/",
      "Suites: bookworm bookworm-updates",
      "Components: main",
    ].join("\n");
    expect(debianMirrorFromSources([{ name: "/etc/apt/sources.list.d/debian.sources", text }])).toBe(
      "http://deb.debian.org/debian",
    );
  });

  test("mirror from a one-line sources.list", () => {
    const text = "# comment\ndeb [arch=amd64] http://mirror.local/debian bookworm main\n";
    expect(debianMirrorFromSources([{ name: "/etc/apt/sources.list", text }])).toBe(
      "http://mirror.local/debian",
    );
  });

  test("disabled files are ignored", () => {
    expect(
      debianMirrorFromSources([
        { name: "x.list.disabled-by-farm", text: "deb http://x/debian bookworm main" },
      ]),
    ).toBeUndefined();
  });
});

describe("kernel module closure", () => {
  const depText = [
    "kernel/drivers/net/dummy.ko:",
    "kernel/drivers/net/bonding/bonding.ko: kernel/net/ipv6/ipv6.ko kernel/lib/crc-ccitt.ko",
    "kernel/net/ipv6/ipv6.ko: kernel/lib/crc-ccitt.ko",
    "kernel/lib/crc-ccitt.ko:",
    "kernel/net/sched/sch_netem.ko:",
  ].join("\n");
  const dep = parseModulesDep(depText);

  test("dependencies are included", () => {
    expect(moduleClosure(dep, ["bonding", "dummy"])).toEqual([
      "kernel/drivers/net/bonding/bonding.ko",
      "kernel/drivers/net/dummy.ko",
      "kernel/lib/crc-ccitt.ko",
      "kernel/net/ipv6/ipv6.ko",
    ]);
  });

  test("names with dashes or underscores both resolve", () => {
    expect(moduleClosure(dep, ["crc_ccitt"])).toEqual(["kernel/lib/crc-ccitt.ko"]);
  });

  test("an unknown module is named", () => {
    expect(() => moduleClosure(dep, ["dummy", "nosuch"])).toThrow(/unknown kernel module\(s\): nosuch/);
  });

  test("the image's modules.dep lists only the copied modules", () => {
    const out = filterModulesDep(depText, ["kernel/drivers/net/dummy.ko", "kernel/net/sched/sch_netem.ko"]);
    expect(out).toBe("kernel/drivers/net/dummy.ko:\nkernel/net/sched/sch_netem.ko:\n");
  });
});

describe("sizes and failures", () => {
  test("auto size leaves room for metadata and growth", () => {
    expect(autoSizeMb(0)).toBe(16);
    expect(autoSizeMb(200 * 1024)).toBe(266);
  });

  test("an unknown package names the packages field and the fix", () => {
    const s = spec({ preset: "debian", packages: ["frrr"] });
    expect(explainDebianFailure(s, "E: Unable to locate package frrr")).toMatch(
      /^packages: "frrr" not found in bookworm at http:\/\/deb.debian.org\/debian; fix the name/,
    );
  });

  test("a suite the mirror lacks names the suite field", () => {
    const s = spec({ preset: "debian", suite: "nosuch" });
    expect(
      explainDebianFailure(
        s,
        "E: The repository 'http://deb.debian.org/debian nosuch Release' does not have a Release file.",
      ),
    ).toMatch(/^suite: "nosuch" is not available/);
  });
});

describe("planner properties", () => {
  const specArb: fc.Arbitrary<ImageSpec> = fc.record({
    kind: fc.constantFrom("busybox", "debian", "dir", "tarball"),
    source: fc.option(fc.constantFrom("/srv/a", "/srv/b.tar"), { nil: undefined }),
    suite: fc.option(fc.constantFrom("bookworm", "trixie"), { nil: undefined }),
    mirror: fc.option(fc.constantFrom("http://deb.debian.org/debian", "http://m.local/debian"), {
      nil: undefined,
    }),
    packages: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), { maxLength: 5 }),
    modules: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/), { maxLength: 5 }),
    sizeMb: fc.option(fc.integer({ min: 8, max: 4096 }), { nil: undefined }),
    cacheDir: fc.constantFrom("/c", "/d"),
  });
  const factsArb: fc.Arbitrary<HostFacts> = fc.record({
    kernelVersion: fc.constantFrom("6.1.176", "6.1.177"),
    initSha256: fc.constantFrom("aa", "bb"),
    sourceHash: fc.option(fc.constantFrom("1", "2"), { nil: undefined }),
  });

  test("imageKey is stable under the order of keys, packages and modules", () => {
    fc.assert(
      fc.property(specArb, factsArb, (s, f) => {
        const reordered = Object.fromEntries(Object.entries(s).reverse()) as unknown as ImageSpec;
        reordered.packages = [...s.packages].reverse();
        reordered.modules = [...s.modules].reverse();
        const factsReordered = Object.fromEntries(Object.entries(f).reverse()) as unknown as HostFacts;
        expect(imageKey(reordered, factsReordered)).toBe(imageKey(s, f));
      }),
    );
  });

  test("imageKey changes when any field that decides the bytes changes", () => {
    const deciding = ["kind", "suite", "mirror", "packages", "modules", "sizeMb"] as const;
    const norm = (v: unknown) => JSON.stringify(Array.isArray(v) ? [...v].sort() : (v ?? null));
    fc.assert(
      fc.property(specArb, factsArb, fc.constantFrom(...deciding), specArb, (a, f, field, b) => {
        fc.pre(norm(a[field]) !== norm(b[field]));
        expect(imageKey({ ...a, [field]: b[field] }, f)).not.toBe(imageKey(a, f));
      }),
    );
    fc.assert(
      fc.property(specArb, factsArb, factsArb, (s, f, g) => {
        fc.pre(
          norm(f.kernelVersion) + norm(f.initSha256) + norm(f.sourceHash) !==
            norm(g.kernelVersion) + norm(g.initSha256) + norm(g.sourceHash),
        );
        expect(imageKey(s, g)).not.toBe(imageKey(s, f));
      }),
    );
  });

  // A random modules.dep as depmod writes it: module i may depend on modules after it (no
  // cycles), and each line lists every dependency, direct or not.
  const depArb = fc
    .array(fc.array(fc.nat({ max: 11 }), { maxLength: 4 }), { minLength: 1, maxLength: 12 })
    .map((rows) => {
      const file = (j: number) => `kernel/m/mod-${j}.ko`;
      const all: Set<number>[] = rows.map(() => new Set<number>());
      for (let i = rows.length - 1; i >= 0; i--)
        for (const d of rows[i].map((x) => i + 1 + x).filter((x) => x < rows.length)) {
          all[i].add(d);
          for (const t of all[d]) all[i].add(t);
        }
      return rows.map((_, i) => `${file(i)}: ${[...all[i]].map(file).join(" ")}`.trimEnd()).join("\n");
    });

  test("moduleClosure contains its inputs and is closed under dependencies", () => {
    fc.assert(
      fc.property(depArb, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (text, picks) => {
        const dep = parseModulesDep(text);
        const names = [...dep.keys()];
        const wanted = picks.map((p) => names[p % names.length]);
        const files = moduleClosure(dep, wanted);
        for (const n of wanted) expect(files).toContain(dep.get(n)!.path);
        const byPath = new Map([...dep.values()].map((m) => [m.path, m]));
        for (const f of files) for (const d of byPath.get(f)!.deps) expect(files).toContain(d);
        expect(files).toEqual([...new Set(files)].sort());
        // The image's modules.dep has exactly one line per copied module.
        expect(filterModulesDep(text, files).trim().split("\n").length).toBe(files.length);
      }),
    );
  });

  test("autoSizeMb is monotonic and leaves room beyond the files", () => {
    fc.assert(
      fc.property(fc.nat({ max: 64 * 2 ** 20 }), fc.nat({ max: 2 ** 20 }), (kib, more) => {
        expect(autoSizeMb(kib)).toBeGreaterThanOrEqual(kib / 1024 + 16);
        expect(autoSizeMb(kib + more)).toBeGreaterThanOrEqual(autoSizeMb(kib));
      }),
    );
  });

  test("a changed argument or key always replaces; equal ones never do", () => {
    const argsArb = fc.record(
      {
        preset: fc.constantFrom("busybox", "debian"),
        packages: fc.array(fc.constantFrom("frr", "tcpdump")),
        sizeMb: fc.integer({ min: 8, max: 64 }),
        key: fc.constantFrom("k1", "k2"),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(argsArb, argsArb, (a, b) => {
        expect(diffImageInputs(a, { ...a })).toEqual([]);
        const changed = Object.keys({ ...a, ...b }).filter(
          (k) => JSON.stringify((a as any)[k]) !== JSON.stringify((b as any)[k]),
        );
        expect(diffImageInputs(a, b).sort()).toEqual(changed.sort());
      }),
    );
  });
});

describe("a guest's default memory by image", () => {
  const { defaultGuestMemory } = require("../../../provider/image/plan");
  test("busybox runs in 64M; Debian and your own trees get 128M (64M starves FRR)", () => {
    expect(defaultGuestMemory({ kind: "busybox" })).toBe("64M");
    for (const kind of ["debian", "dir", "tarball"]) expect(defaultGuestMemory({ kind })).toBe("128M");
  });
});
