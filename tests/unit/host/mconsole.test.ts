// The console commands umlab passes on (host/mconsole.ts mconsoleWords) and the CLI's parsing
// of `umlab mconsole`: what is allowed goes through word for word, everything else is refused
// naming what is allowed.
import { mconsoleWords, MconsoleRefused, MCONSOLE_COMMANDS } from "../../../provider/host/mconsole";
import { parseArgs, UsageError } from "../../../cli/args";

describe("mconsoleWords", () => {
  it.each([
    [
      ["sysrq", "s"],
      ["sysrq", "s"],
    ],
    ["sysrq 9", ["sysrq", "9"]],
    ["cad", ["cad"]],
    ["  reboot ", ["reboot"]],
    ["halt", ["halt"]],
    ["stop", ["stop"]],
    ["go", ["go"]],
    ["version", ["version"]],
    ["proc sys/kernel/random/boot_id", ["proc", "sys/kernel/random/boot_id"]],
    ["proc /proc/meminfo", ["proc", "meminfo"]],
    ["config ubd1", ["config", "ubd1"]],
    ["config ubd1=/var/tmp/lab/disk.img", ["config", "ubd1=/var/tmp/lab/disk.img"]],
    [
      "config eth2=daemon,02:00:00:00:00:01,unix,/x/ctl",
      ["config", "eth2=daemon,02:00:00:00:00:01,unix,/x/ctl"],
    ],
  ])("passes %j on as %j", (cmd, words) => {
    expect(mconsoleWords(cmd as string | string[])).toEqual(words);
  });

  it.each([
    ["remove ubd1", /"remove" is not an allowed console command/],
    ["log hello", /"log" is not an allowed console command/],
    ["exec rm -rf /", /"exec" is not an allowed console command/],
    ["", /give a console command/],
    ["sysrq", /sysrq takes one argument/],
    ["sysrq s u", /sysrq takes one argument/],
    ["sysrq S", /not a sysrq key/],
    ["sysrq ;", /not a sysrq key/],
    ["halt now", /halt takes no argument/],
    ["proc ../etc/passwd", /not a file under \/proc/],
    ["proc sys/../../x", /not a file under \/proc/],
    ["proc /etc/passwd", /not a file under \/proc/],
    ["config", /config takes one argument/],
    ["config mem=64M", /not <dev> or <dev>=<value>/],
    ["config ubd1=$(reboot)", /characters a device setting never has/],
    ["config ubd1=a b", /config takes one argument/],
  ])("refuses %j", (cmd, why) => {
    let err: unknown;
    try {
      mconsoleWords(cmd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MconsoleRefused);
    expect((err as Error).message).toMatch(why);
    // Every refusal lists what is allowed.
    for (const usage of Object.values(MCONSOLE_COMMANDS)) expect((err as Error).message).toContain(usage);
  });
});

describe("umlab mconsole argument parsing", () => {
  it("takes the guest, then the command words (no -- needed)", () => {
    const a = parseArgs(["mconsole", "--lab", "x", "g1", "sysrq", "s"]);
    expect(a).toMatchObject({ command: "mconsole", lab: "x", guest: "g1", argv: ["sysrq", "s"] });
    expect(parseArgs(["mconsole", "g1", "--", "proc", "meminfo"]).argv).toEqual(["proc", "meminfo"]);
  });

  it("wants a guest and a command", () => {
    expect(() => parseArgs(["mconsole"])).toThrow(UsageError);
    expect(() => parseArgs(["mconsole", "g1"])).toThrow(/give the console command/);
    expect(() => parseArgs(["mconsole", "G1;x", "halt"])).toThrow(/not a guest name/);
  });

  it("still refuses extra words for console and ls", () => {
    expect(() => parseArgs(["console", "g1", "halt"])).toThrow(/unexpected argument/);
  });
});
