// A child process whose stdout its parent reads as a stream, for the standalone helper
// programs umlab runs (the pcap writer reads vde_plug's frames). Kept apart from
// process.ts, whose run() collects output as text and whose detached processes write to
// log files.
import execa = require("execa");

export interface Reader {
  /** Stop the child (SIGTERM). */
  stop(): void;
}

/**
 * Start `cmd` with its stdout piped to `onData` and its stderr inherited. Its stdin is a pipe
 * that stays open and is never written: tools like vde_plug exit when their stdin ends.
 */
export function spawnReader(
  cmd: string,
  args: string[],
  onData: (chunk: Buffer) => void,
  onExit: (code: number | null) => void,
): Reader {
  const child = execa(cmd, args, { stdio: ["pipe", "pipe", "inherit"], buffer: false, reject: false });
  child.stdout!.on("data", onData);
  child.on("exit", onExit);
  return {
    stop() {
      child.kill("SIGTERM");
    },
  };
}
