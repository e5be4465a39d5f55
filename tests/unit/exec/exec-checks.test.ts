// Pure parts of exec, checks and the CLI: quoting, the scripts requests run, check verdicts
// and names, Exec re-run planning, command-line parsing.
import { commandScript, shQuote, splitGuestDir } from "../../../provider/exec/agent";
import { planExec } from "../../../provider/exec/provider";
import { checkCommand, checkName, judge, summarize, CheckSpec } from "../../../provider/exec/checks";
import { parseArgs, UsageError } from "../../../cli/umlab";

const gd = "/var/tmp/umlab/lab-1/g/node01";

describe("exec request scripts", () => {
  test("argv words are quoted so the shell sees them as data", () => {
    expect(shQuote("plain-word_1.2/x")).toBe("plain-word_1.2/x");
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
    expect(shQuote("$(reboot)")).toBe(`'$(reboot)'`);
    expect(shQuote("")).toBe("''");
    expect(commandScript(["echo", "a b", ";ls"])).toBe(`exec echo 'a b' ';ls'\n`);
  });
  test("a string is a sh script as is", () => {
    expect(commandScript("ip a | grep eth0")).toBe("ip a | grep eth0\n");
    expect(() => commandScript([])).toThrow(/empty/);
  });
  test("a guest folder names its lab and guest", () => {
    expect(splitGuestDir(gd)).toEqual(["/var/tmp/umlab/lab-1", "node01"]);
  });
  test("the Exec resource re-runs on new commands, triggers or a reboot; a new timeout only updates", () => {
    const base = {
      guestDir: gd,
      command: "true",
      triggers: [1],
      bootId: "a",
      timeoutSeconds: 60,
      failOnError: true,
    };
    expect(planExec(base, { ...base, triggers: [2] }).replaces).toEqual(["triggers"]);
    expect(planExec(base, { ...base, bootId: "b" }).replaces).toEqual(["bootId"]);
    expect(planExec(base, { ...base, timeoutSeconds: 5 })).toEqual({
      changes: ["timeoutSeconds"],
      replaces: [],
    });
    expect(planExec(base, base)).toEqual({ changes: [], replaces: [] });
  });
});

describe("lab checks", () => {
  const ping: CheckSpec = { kind: "ping", guestDir: gd, to: "192.168.100.3" };
  const route: CheckSpec = {
    kind: "route",
    guestDir: gd,
    dest: "192.168.100.3/32",
    via: "192.168.4.4",
    proto: "ospf",
  };
  const cmd: CheckSpec = {
    kind: "command",
    guestDir: gd,
    command: "vtysh -c 'show ip ospf neighbor'",
    expect: "Full",
    flags: "",
  };

  test("checks are named after what they assert", () => {
    expect(checkName(ping)).toBe("node01 reaches 192.168.100.3");
    expect(checkName(route)).toBe("node01 has a route to 192.168.100.3/32 via 192.168.4.4 (ospf)");
    expect(checkName(cmd)).toBe("node01: `vtysh -c 'show ip ospf neighbor'` prints /Full/");
    expect(checkName({ ...ping, name: "mine" })).toBe("mine");
  });
  test("each kind runs a plain command in the guest", () => {
    expect(checkCommand(ping)).toEqual(["ping", "-c", "1", "-W", "1", "192.168.100.3"]);
    expect(checkCommand({ ...ping, to: "fd00::1" })).toEqual(["ping", "-6", "-c", "1", "-W", "1", "fd00::1"]);
    expect(checkCommand(route)).toEqual(["ip", "route", "show", "192.168.100.3/32"]);
  });
  test("verdicts: ping by exit code, route by what ip prints, command by regex and exit code", () => {
    expect(judge(ping, { stdout: "", exitCode: 0 })).toBe(true);
    expect(judge(ping, { stdout: "", exitCode: 1 })).toBe(false);
    const line = "192.168.100.3 via 192.168.4.4 dev eth1 proto ospf metric 20\n";
    expect(judge(route, { stdout: line, exitCode: 0 })).toBe(true);
    expect(judge(route, { stdout: "", exitCode: 0 })).toBe(false);
    expect(judge(route, { stdout: line.replace("4.4", "1.2"), exitCode: 0 })).toBe(false);
    expect(judge({ ...route, via: "192.168.4.44" }, { stdout: line, exitCode: 0 })).toBe(false);
    expect(judge(cmd, { stdout: "2.2.2.2 1 Full/-", exitCode: 0 })).toBe(true);
    expect(judge(cmd, { stdout: "2.2.2.2 1 Init/-", exitCode: 0 })).toBe(false);
    expect(judge({ ...cmd, expect: undefined }, { stdout: "", exitCode: 1 })).toBe(false);
    expect(judge({ ...cmd, expect: undefined, exitCode: 1 }, { stdout: "", exitCode: 1 })).toBe(true);
  });
  test("the summary shows what a failed check saw", () => {
    const s = summarize([
      { name: "a", ok: true, attempts: 1, seconds: 0.1, seen: "" },
      { name: "b", ok: false, attempts: 3, seconds: 2, seen: "exit 1: 100% packet loss" },
    ]);
    expect(s).toBe(
      "ok   a (1 attempt, 0.1 s)\nFAIL b: after 3 attempts in 2.0 s, saw: exit 1: 100% packet loss",
    );
  });
});

describe("umlab command line", () => {
  test("exec takes the guest, options and the command after --", () => {
    expect(parseArgs(["exec", "--lab", "x", "--timeout", "5", "g1", "--", "ls", "-l"])).toEqual({
      command: "exec",
      lab: "x",
      timeoutSeconds: 5,
      guest: "g1",
      argv: ["ls", "-l"],
    });
    expect(parseArgs(["exec", "g1", "ip", "a"]).argv).toEqual(["ip", "a"]);
    expect(parseArgs(["console", "g1"], { UMLAB_LAB: "lab-1" })).toMatchObject({ guest: "g1", lab: "lab-1" });
  });
  test("mistakes are usage errors that say what is missing", () => {
    expect(() => parseArgs(["exec", "g1"])).toThrow(UsageError);
    expect(() => parseArgs(["exec", "g1"])).toThrow(/give the command/);
    expect(() => parseArgs(["console"])).toThrow(/name the guest/);
    expect(() => parseArgs(["frobnicate"])).toThrow(/unknown command/);
    expect(() => parseArgs(["exec", "--timeout", "soon", "g1", "--", "true"])).toThrow(/seconds/);
  });
});
