// Which processes hold a file open: the one reliable "is the guest still writing its COW
// file" (a UML guest keeps its ubd files open while it runs, its pid file may be stale).
// Files are compared by device and inode, so a guest confined to a bind-mounted view of the
// file (provider/host/confine.ts) is found too. Processes of other users whose /proc/<pid>/fd
// this user cannot read are not seen: callers also check the guest's own pid file.
import * as fs from "fs";
import { processCmdline } from "./process";

export interface Holder {
  pid: number;
  /** The holder's command line, for messages. */
  cmd: string;
}

/** The processes with `file` open (none when the file does not exist). */
export function processesHolding(file: string): Holder[] {
  let target: fs.Stats;
  try {
    target = fs.statSync(file);
  } catch {
    return [];
  }
  const out: Holder[] = [];
  let pids: string[] = [];
  try {
    pids = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  for (const p of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${p}/fd`);
    } catch {
      continue; // gone, or another user's
    }
    for (const fd of fds) {
      try {
        const st = fs.statSync(`/proc/${p}/fd/${fd}`);
        if (st.dev === target.dev && st.ino === target.ino) {
          out.push({ pid: Number(p), cmd: (processCmdline(Number(p)) ?? []).join(" ").slice(0, 200) });
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}
