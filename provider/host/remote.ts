// Running umlab on another host: one ssh process per request, a fixed argv
// (remote-argv.ts remoteArgv), the request as one JSON line on its stdin (then, for an image,
// the image's bytes), the answer as one JSON line on its stdout (provider/remote-main.ts).
import execa = require("execa");
import * as fs from "fs";
import { remoteArgv, hostLabel, type Host } from "./remote-argv";
import { lastLines } from "./process";

/** What remote-main answers: the result, or the error it met there. */
export type RemoteAnswer = { ok: true; result: unknown } | { ok: false; error: string };

/** A request: a provider handler, or an image-cache step. Never holds a file's bytes. */
export type RemoteRequest =
  | { op: "handler"; provider: string; method: "create" | "read" | "update" | "delete"; args: unknown[] }
  | { op: "hasImage"; cache: string; sha256: string }
  | { op: "putImage"; cache: string; sha256: string; size: number }
  | { op: "capacity" }
  | { op: "alive"; pids: number[] };

/** The host could not be reached (or umlab could not start there): nothing ran there. */
export class HostUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostUnreachable";
  }
}

/** The last JSON answer line remote-main printed, if any. */
export function answerOf(stdout: string): RemoteAnswer | undefined {
  const lines = stdout.split("\n").filter((l) => l.startsWith('{"umlabRemote":1'));
  if (lines.length === 0) return undefined;
  const a = JSON.parse(lines[lines.length - 1]) as { ok: boolean; result?: unknown; error?: string };
  return a.ok ? { ok: true, result: a.result } : { ok: false, error: String(a.error) };
}

/** The error for an ssh run that gave no answer: which host, what ssh said, and the fix. */
export function unreachableError(
  h: Host,
  code: number | undefined,
  stderr: string,
  main: string,
): HostUnreachable {
  const tail = lastLines(stderr, 6);
  // ssh exits 255 for its own failures (no route, refused, auth, host key); anything else ran there.
  if (code !== undefined && code !== 255)
    return new HostUnreachable(
      `umlab: ${hostLabel(h)}: umlab could not start there (${h.node} ${main}): ${tail}\n` +
        `Fix: install node and umlab on that host (README "More than one machine"), or set the host's node/umlab fields`,
    );
  return new HostUnreachable(
    `umlab: ${hostLabel(h)} cannot be reached over SSH (exit ${code ?? "signal"}): ${tail || "no message"}\n` +
      `Fix: check that the host is up and reachable${h.proxyCommand ? " through its proxyCommand" : ""}, that ` +
      `${h.privateKey ?? "your key"} is in its authorized_keys for ${h.user}, and that its host key is in ` +
      `${h.knownHosts ?? "~/.ssh/known_hosts"}; then run again (nothing was done on it)`,
  );
}

/**
 * sshd turned the connection away before any login (its MaxStartups: by default it drops
 * some unauthenticated connections once 10 are open, e.g. a refresh reading 20 components on
 * one host at once): nothing ran there, so the request may be sent again.
 */
export function turnedAwayBeforeLogin(code: number | undefined, stderr: string): boolean {
  return code === 255 && /kex_exchange_identification|ssh_exchange_identification/.test(stderr);
}

/** At most this many ssh requests to one host at a time from this process (below sshd's 10). */
export const MAX_REQUESTS_PER_HOST = 4;
const running = new Map<string, number>();
const waiting = new Map<string, (() => void)[]>();

async function withHostSlot<T>(key: string, f: () => Promise<T>): Promise<T> {
  if ((running.get(key) ?? 0) >= MAX_REQUESTS_PER_HOST)
    await new Promise<void>((resolve) => waiting.set(key, [...(waiting.get(key) ?? []), resolve]));
  running.set(key, (running.get(key) ?? 0) + 1);
  try {
    return await f();
  } finally {
    running.set(key, (running.get(key) ?? 1) - 1);
    const next = waiting.get(key)?.shift();
    if (next) next();
  }
}

/**
 * Send one request to the host and return its result. Throws HostUnreachable when ssh or
 * umlab did not run there, and the remote error (prefixed with the host) when the step failed.
 * `payload`: a file whose bytes follow the request line on stdin (putImage). A connection
 * sshd turned away before login is tried again (6 tries, 0.2 s to 3 s apart, with jitter).
 */
export async function callRemote(
  h: Host,
  req: RemoteRequest,
  opts: { payload?: string; timeoutMs?: number } = {},
): Promise<unknown> {
  const key = `${h.user}@${h.address}:${h.port}`;
  for (let attempt = 1; ; attempt++) {
    const r = await withHostSlot(key, () => callOnce(h, req, opts));
    if (r.retry && attempt < 6) {
      await new Promise((res) => setTimeout(res, Math.min(3000, 200 * 2 ** attempt) * (0.5 + Math.random())));
      continue;
    }
    return r.result();
  }
}

async function callOnce(
  h: Host,
  req: RemoteRequest,
  opts: { payload?: string; timeoutMs?: number },
): Promise<{ retry: boolean; result: () => unknown }> {
  const argv = remoteArgv(h);
  const line = Buffer.from(JSON.stringify(req) + "\n");
  const child = execa("ssh", argv, {
    env: process.env,
    extendEnv: false,
    timeout: opts.timeoutMs ?? 15 * 60_000,
    killSignal: "SIGKILL",
    reject: false,
    stdin: "pipe",
    maxBuffer: 64 * 1024 * 1024,
  });
  const stdin = child.stdin as NodeJS.WritableStream;
  stdin.on("error", () => undefined); // ssh gone early: its exit says why
  stdin.write(line);
  if (opts.payload) fs.createReadStream(opts.payload).pipe(stdin);
  else stdin.end();
  const r = await child;
  const stdout = String(r.stdout ?? "");
  const stderr = String(r.stderr ?? "");
  let answer: RemoteAnswer | undefined;
  try {
    answer = answerOf(stdout);
  } catch {
    answer = undefined;
  }
  const got = answer;
  const result = () => {
    if (!got) {
      if (r.timedOut)
        throw new Error(`umlab: ${hostLabel(h)}: no answer within ${opts.timeoutMs ?? 900_000} ms`);
      throw unreachableError(
        h,
        r.exitCode,
        stderr +
          (r.exitCode === undefined ? String((r as { originalMessage?: string }).originalMessage ?? "") : ""),
        argv[argv.length - 1],
      );
    }
    if (!got.ok) throw new Error(`umlab: on ${hostLabel(h)}: ${got.error}`);
    return got.result;
  };
  return { retry: !got && turnedAwayBeforeLogin(r.exitCode, stderr), result };
}
