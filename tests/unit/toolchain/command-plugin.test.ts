// The command plugin's remote.Command pieces that need no ssh: the quoting of the remote line
// (run through a real sh here, with values built to break it), the connection checks, and the
// fixed ssh argv with its temp files.
import * as child_process from "child_process";
import * as fs from "fs";
import * as path from "path";

const plugin = require(
  path.resolve(__dirname, "../../../toolchain/command-plugin/pulumi-resource-command.js"),
);

const HOSTILE = [
  "it's",
  "'",
  "''\\''",
  '"$(touch /tmp/h20cmd-pwned)"',
  "`touch /tmp/h20cmd-pwned`",
  "$HOME ${PATH} $((1+1)) !! \\",
  "a\nb\r\n\tc ;| & > < * ? [x] ~ #",
  "-n",
  "",
  "ünïcødé ☃",
];

describe("command plugin: the remote line", () => {
  test("every environment value and the command arrive intact through a POSIX shell", () => {
    const env = Object.fromEntries(HOSTILE.map((v, i) => [`V${i}`, v]));
    const command = `for i in ${HOSTILE.map((_, i) => i).join(" ")}; do eval "printf '%s\\\\0' \\"\\$V$i\\""; done`;
    const line = plugin.remoteLine(command, env);
    // What sshd does with it: the login shell's `-c <line>`.
    for (const shell of [["/bin/sh"], ["/bin/bash", "--norc", "--noprofile"]]) {
      const r = child_process.spawnSync(shell[0], [...shell.slice(1), "-c", line], {
        encoding: "utf8",
        env: {},
      });
      expect(r.stderr).toBe("");
      expect(r.stdout.split("\0").slice(0, -1)).toEqual(HOSTILE);
    }
    expect(fs.existsSync("/tmp/h20cmd-pwned")).toBe(false);
  });

  test("the command text itself is one word: its quotes survive", () => {
    const line = plugin.remoteLine(`printf '%s|' "it's" '$(x)'`, {});
    const r = child_process.spawnSync("/bin/sh", ["-c", line], { encoding: "utf8" });
    expect(r.stdout).toBe("it's|$(x)|");
  });

  test("an environment name that is not a shell variable is refused", () => {
    for (const bad of ["A B", "A=B", "1A", "A;rm", "", "$(x)"])
      expect(() => plugin.remoteLine("true", { [bad]: "v" })).toThrow(/is not a shell variable name/);
  });
});

describe("command plugin: connection checks", () => {
  const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";
  const ok = { host: "192.0.2.2", user: "root", port: 22, privateKey: key };
  const fails = (c: unknown) => plugin.connectionFailures(c, "connection").map((f: any) => f.property);

  test("a plain connection passes; unknown values (preview) are left alone", () => {
    expect(fails(ok)).toEqual([]);
    expect(fails({ ...ok, host: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" })).toEqual([]);
    expect(fails({ ...ok, proxy: { host: "bastion.example", user: "jump" } })).toEqual([]);
  });

  test.each([
    ["host", { host: "-oProxyCommand=touch x" }],
    ["host", { host: "a b" }],
    ["host", { host: undefined }],
    ["port", { port: 0 }],
    ["port", { port: 70000 }],
    ["user", { user: "root -oX" }],
    ["password", { password: "hunter2" }],
    ["privateKeyPassword", { privateKeyPassword: "x" }],
    ["privateKey", { privateKey: "/root/.ssh/id_ed25519" }],
    ["hostKey", { hostKey: "ssh-ed25519 AAAA\nevil" }],
    ["agentSocketPath", { agentSocketPath: "/tmp/a b;touch x" }],
    ["dialErrorLimit", { dialErrorLimit: 0 }],
    ["perDialTimeout", { perDialTimeout: -1 }],
  ])("bad %s is refused naming the field", (field, change) => {
    expect(fails({ ...ok, ...change })).toEqual([`connection.${field}`]);
  });

  test("a bad proxy field is named under connection.proxy", () => {
    expect(fails({ ...ok, proxy: { host: "x;y" } })).toEqual(["connection.proxy.host"]);
    expect(fails({ ...ok, proxy: { host: "p", proxy: { host: "q" } } })).toEqual(["connection.proxy.proxy"]);
  });
});

describe("command plugin: the ssh argv", () => {
  const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----";
  let tmp = "";
  beforeEach(() => {
    tmp = plugin.makeTmp();
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test("with a hostKey: strict checking against only that key; the key in a 0600 file", () => {
    const c = {
      host: "192.0.2.2",
      port: 2222,
      user: "umlab",
      privateKey: key,
      hostKey: "ssh-ed25519 AAAAC3 host-b",
    };
    const argv: string[] = plugin.sshArgv(c, tmp, "LINE");
    expect(argv.slice(-3)).toEqual(["--", "192.0.2.2", "LINE"]);
    expect(argv).toEqual(
      expect.arrayContaining(["-F", "none", "-T", "BatchMode=yes", "StrictHostKeyChecking=yes"]),
    );
    expect(argv.join(" ")).toContain(`-p 2222 -l umlab`);
    const keyFile = argv[argv.indexOf("-i") + 1];
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(tmp).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(keyFile, "utf8")).toBe(`${key}\n`);
    const kh = argv.find((a) => a.startsWith("UserKnownHostsFile="))!.split("=")[1];
    expect(fs.readFileSync(kh, "utf8")).toBe("* ssh-ed25519 AAAAC3 host-b\n");
  });

  test("without a hostKey: accept-new (trust on first use), never a prompt", () => {
    const argv: string[] = plugin.sshArgv({ host: "h", privateKey: key }, tmp, "L");
    expect(argv).toContain("StrictHostKeyChecking=accept-new");
    expect(argv).not.toContain("StrictHostKeyChecking=no");
  });

  test("a proxy is a ProxyCommand of ssh with its own options and -W %h:%p", () => {
    const c = {
      host: "10.0.0.5",
      privateKey: key,
      proxy: { host: "bastion", user: "jump", port: 2200, privateKey: key },
    };
    const argv: string[] = plugin.sshArgv(c, tmp, "L");
    const pc = argv.find((a) => a.startsWith("ProxyCommand="))!;
    expect(pc).toMatch(/^ProxyCommand=ssh -F none .* -p 2200 -l jump -W %h:%p -- bastion$/);
    expect(pc).toContain(path.join(tmp, "proxy_key"));
    // Every word of it is one sh word: nothing a shell would split or expand.
    for (const w of pc.slice("ProxyCommand=".length).split(" "))
      expect(w).toMatch(/^[A-Za-z0-9._+/:@=%,-]+$/);
  });
});
