// wirefilter's management socket (`wirefilter -M <socket>`): a text console that prints a
// banner and the prompt "VDEwf$ ", takes one command per line and answers "1000 Success" (or
// another code with the reason). One command is written per answer: commands sent together
// are not all read. Changing loss, delay or bandwidth here changes a running filter in place,
// nothing restarts and no frame in flight is dropped for it.
import * as net from "net";

const PROMPT = "VDEwf$ ";

/** The commands that set a filter to these settings (pure; 0 clears a setting). */
export function filterCommands(s: { lossPercent: number; delayMs: number; rateKbit: number }): string[] {
  return [`loss ${s.lossPercent}`, `delay ${s.delayMs}`, `bandwidth ${s.rateKbit * 125}`];
}

/** Send each command, one after the other's answer; throws naming the command that failed. */
export function wirefilterCommands(socket: string, commands: string[], timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(socket);
    let buf = "";
    let next = 0;
    const timer = setTimeout(
      () => done(new Error(`wirefilter ${socket}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const done = (e?: Error) => {
      clearTimeout(timer);
      c.destroy();
      if (e) reject(e);
      else resolve();
    };
    c.on("error", (e) => done(new Error(`wirefilter ${socket}: ${e.message}`)));
    c.on("data", (d) => {
      buf += d.toString("utf8");
      if (!buf.endsWith(PROMPT)) return;
      if (next > 0) {
        const ok = /\b1000 Success\b/.test(buf);
        if (!ok)
          return done(new Error(`wirefilter ${socket}: \`${commands[next - 1]}\` answered ${buf.trim()}`));
      }
      buf = "";
      if (next === commands.length) return done();
      c.write(`${commands[next++]}\n`);
    });
  });
}
