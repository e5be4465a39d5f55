// wirefilter's management console as HostLink drives it: one command per answer (the real
// filter reads only the first of commands sent together), "1000 Success" awaited each time,
// an error answer names the command; the settings become loss/delay/bandwidth (bytes/s).
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { filterCommands, wirefilterCommands } from "../../../provider/net/wirefilter-mgmt";

/** A console like wirefilter's: banner, prompt; answers each line, "delay" with `answer`. */
async function fakeFilter(answer: string): Promise<{ socket: string; seen: string[]; close(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wfm-"));
  const socket = path.join(dir, "mgmt");
  const seen: string[] = [];
  const server = net.createServer((c) => {
    c.write("\nVDE wirefilter V.2.3.2\n\nVDEwf$ ");
    c.on("data", (d) => {
      // Like wirefilter: one read, one command (anything after the first line is lost).
      const line = d.toString().split("\n")[0];
      seen.push(line);
      c.write(`${line.startsWith("delay") ? answer : "1000 Success"}\n\nVDEwf$ `);
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return {
    socket,
    seen,
    close: () => {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test("settings as console commands; 0 clears; kbit/s to bytes/s", () => {
  expect(filterCommands({ lossPercent: 5, delayMs: 20, rateKbit: 8 })).toEqual([
    "loss 5",
    "delay 20",
    "bandwidth 1000",
  ]);
  expect(filterCommands({ lossPercent: 0, delayMs: 0, rateKbit: 0 })).toEqual([
    "loss 0",
    "delay 0",
    "bandwidth 0",
  ]);
});

test("each command is sent after the previous answer, all of them arrive", async () => {
  const f = await fakeFilter("1000 Success");
  try {
    await wirefilterCommands(f.socket, ["loss 1", "delay 2", "bandwidth 3"]);
    expect(f.seen).toEqual(["loss 1", "delay 2", "bandwidth 3"]);
  } finally {
    f.close();
  }
});

test("an error answer fails naming the command; a missing socket fails naming it", async () => {
  const f = await fakeFilter("1022 Invalid argument");
  try {
    await expect(wirefilterCommands(f.socket, ["loss 1", "delay x", "bandwidth 3"])).rejects.toThrow(
      /`delay x` answered 1022 Invalid argument/,
    );
    expect(f.seen).toEqual(["loss 1", "delay x"]);
  } finally {
    f.close();
  }
  await expect(wirefilterCommands("/nonexistent/mgmt", ["loss 1"])).rejects.toThrow(/\/nonexistent\/mgmt/);
});
