// The ssh argv of a Host: fixed words only, host keys always checked, and no field that could
// mean something to a shell (ssh's ProxyCommand runs under `sh -c`; the remote command is one
// string the remote shell splits) gets through the schema. Attacked with hostile strings.
import * as child_process from "child_process";
import fc from "fast-check";
import {
  checkHost,
  parseHost,
  remoteArgv,
  sshCommandArgv,
  sameHost,
  PROXY_WORD_RE,
  type HostInput,
} from "../../../provider/host/remote-argv";

const base: HostInput = {
  name: "host-b",
  address: "192.0.2.2",
  privateKey: "/tmp/k/client_ed25519",
  knownHosts: "/tmp/k/known_hosts",
  proxyCommand: ["ip", "netns", "exec", "h19mh-x-b", "nc", "127.0.0.1", "22"],
  runtimeRoot: "/var/tmp/umlab",
  cache: "/var/cache/umlab",
};

/** What a shell would treat specially (plus whitespace, which splits words). */
const SHELL_META = /[\s;&|<>()$`\\"'*?[\]{}~#!%^]/;

const HOSTILE = [
  "; rm -rf /",
  "$(touch /tmp/pwned)",
  "`id`",
  "a b",
  "a\nb",
  "-oProxyCommand=sh",
  "--",
  "x|y",
  "%h",
  "~root",
  "/a/../../etc",
  "/tmp/a b",
  "",
  "é",
  "a'b",
  'a"b',
  "a\\b",
  "*",
  "\u0000",
];

const STRING_FIELDS = [
  "name",
  "address",
  "user",
  "privateKey",
  "knownHosts",
  "runtimeRoot",
  "cache",
  "umlab",
  "node",
];

describe("Host schema and ssh argv", () => {
  test("a host gets the fixed argv: no config files, batch mode, strict host keys, -- before the address", () => {
    const h = parseHost(base);
    const argv = remoteArgv(h, "/opt/umlab");
    expect(argv.slice(0, 2)).toEqual(["-F", "none"]);
    expect(argv).toContain("BatchMode=yes");
    expect(argv).toContain("StrictHostKeyChecking=yes");
    expect(argv).toContain("UserKnownHostsFile=/tmp/k/known_hosts");
    expect(argv).toContain("ProxyCommand=ip netns exec h19mh-x-b nc 127.0.0.1 22");
    expect(argv.slice(-4)).toEqual(["--", "192.0.2.2", "node", "/opt/umlab/dist/provider/remote-main.js"]);
    expect(argv[argv.indexOf("-l") + 1]).toBe("root");
    expect(argv[argv.indexOf("-p") + 1]).toBe("22");
  });

  test.each(STRING_FIELDS)("hostile strings in %s are refused, naming host.<field>", (field) => {
    for (const bad of HOSTILE) {
      const r = checkHost({ ...base, [field]: bad });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.failures.map((f) => f.property)).toContain(`host.${field}`);
    }
  });

  test("hostile proxy command words are refused, naming host.proxyCommand", () => {
    for (const bad of HOSTILE.filter((s) => s === "" || SHELL_META.test(s) || /[^\x20-\x7e]/.test(s))) {
      const r = checkHost({ ...base, proxyCommand: ["nc", bad] });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.failures[0].property).toMatch(/^host\.proxyCommand/);
    }
  });

  test("property: whatever a field holds, an accepted host sends no shell metacharacter to a shell", () => {
    const anyText = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(...HOSTILE),
      fc.fullUnicodeString({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...STRING_FIELDS, "proxyCommand"), anyText, (field, v) => {
        const input = { ...base, [field]: field === "proxyCommand" ? ["nc", v] : v };
        const r = checkHost(input);
        if (!r.ok) return true;
        const argv = remoteArgv(r.host, "/opt/umlab");
        const remote = argv.slice(argv.indexOf("--") + 1);
        // The words the remote shell splits, and the ProxyCommand words `sh -c` splits.
        for (const w of remote) expect(w).not.toMatch(SHELL_META);
        expect(remote[0].startsWith("-")).toBe(false);
        for (const w of r.host.proxyCommand ?? []) expect(w).not.toMatch(SHELL_META);
        return true;
      }),
      { numRuns: 400 },
    );
  });

  test("a real sh -c gives back the proxy command's words unchanged (no expansion, no splitting)", () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(PROXY_WORD_RE), { minLength: 1, maxLength: 5 }), (words) => {
        const h = parseHost({ ...base, proxyCommand: words });
        const value = remoteArgv(h)
          .find((a) => a.startsWith("ProxyCommand="))!
          .slice("ProxyCommand=".length);
        const out = child_process.execFileSync("sh", ["-c", `printf '%s\\n' ${value}`], { encoding: "utf8" });
        expect(out).toBe(words.map((w) => `${w}\n`).join(""));
      }),
      { numRuns: 60 },
    );
  });

  test("sshCommandArgv refuses hostile words for the remote shell", () => {
    const h = parseHost(base);
    expect(sshCommandArgv(h, ["vde_plug", "/tmp/x/ctl"]).slice(-3)).toEqual([
      "192.0.2.2",
      "vde_plug",
      "/tmp/x/ctl",
    ]);
    for (const bad of HOSTILE.filter((s) => !PROXY_WORD_RE.test(s)))
      expect(() => sshCommandArgv(h, ["vde_plug", bad])).toThrow(/refusing/);
  });

  test("defaults, unknown fields, and what makes another place", () => {
    const h = parseHost(base);
    expect([h.user, h.port, h.node]).toEqual(["root", 22, "node"]);
    const r = checkHost({ ...base, command: "sh" });
    expect(r.ok).toBe(false);
    expect(checkHost({ ...base, port: 0 }).ok).toBe(false);
    expect(checkHost({ ...base, port: 65536 }).ok).toBe(false);
    expect(sameHost(h, parseHost({ ...base, privateKey: "/other/key" }))).toBe(true);
    for (const [k, v] of [
      ["address", "192.0.2.3"],
      ["runtimeRoot", "/var/tmp/other"],
      ["cache", "/var/cache/other"],
      ["port", 2222],
      ["name", "host-c"],
    ] as const)
      expect(sameHost(h, parseHost({ ...base, [k]: v }))).toBe(false);
    expect(sameHost(undefined, undefined)).toBe(true);
    expect(sameHost(h, undefined)).toBe(false);
  });
});
