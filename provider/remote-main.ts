// umlab's entry on another host, started by ssh with a fixed argv (provider/host/remote.ts):
// stdin carries one JSON request line (then, for putImage, the image's bytes); stdout carries
// one JSON answer line. The handler run is the component's own (localProvider: never the
// remote wrapper), so a request runs here exactly what a local `pulumi up` would run.
import * as fs from "fs";
import { localProvider, PROVIDER_NAMES } from "./index";
import { hasImage, receiveImage } from "./host/remote-images";
import { localCapacity, alivePids } from "./host/capacity";
import type { RemoteRequest } from "./host/remote";

const METHODS = new Set(["create", "read", "update", "delete"]);
const MAX_HEADER = 4 * 1024 * 1024;

function answer(a: { ok: boolean; result?: unknown; error?: string }): void {
  fs.writeSync(1, JSON.stringify({ umlabRemote: 1, ...a }) + "\n");
}

/** The request line, and the bytes after it (the payload, read on demand). */
async function readRequest(): Promise<{ req: RemoteRequest; payload: AsyncIterable<Buffer> }> {
  const it = process.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let buf = Buffer.alloc(0);
  while (!buf.includes(10)) {
    const n = await it.next();
    if (n.done) break;
    buf = Buffer.concat([buf, n.value]);
    if (buf.length > MAX_HEADER) throw new Error("request line too long");
  }
  const nl = buf.indexOf(10);
  if (nl < 0) throw new Error("no request line on stdin");
  const req = JSON.parse(buf.subarray(0, nl).toString("utf8")) as RemoteRequest;
  const first = buf.subarray(nl + 1);
  async function* payload(): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  return { req, payload: payload() };
}

async function serve(req: RemoteRequest, payload: AsyncIterable<Buffer>): Promise<unknown> {
  switch (req.op) {
    case "handler": {
      if (!(PROVIDER_NAMES as string[]).includes(req.provider) || !METHODS.has(req.method))
        throw new Error(`no handler ${JSON.stringify(req.provider)}.${JSON.stringify(req.method)} here`);
      const p = localProvider(req.provider) as any;
      if (typeof p[req.method] !== "function") throw new Error(`${req.provider} has no ${req.method}`);
      return (await p[req.method](...(req.args as unknown[]))) ?? null;
    }
    case "hasImage":
      return hasImage(req.cache, req.sha256);
    case "putImage":
      return receiveImage(req.cache, req.sha256, req.size, payload);
    case "capacity":
      return localCapacity();
    case "alive":
      return alivePids(req.pids);
    default:
      throw new Error(`unknown request ${JSON.stringify((req as { op?: unknown }).op)}`);
  }
}

async function main(): Promise<void> {
  // Whatever a handler prints goes to stderr: stdout carries only the answer.
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    const { req, payload } = await readRequest();
    answer({ ok: true, result: await serve(req, payload) });
  } catch (e) {
    answer({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
  process.exit(0);
}

void main();
