// A null-modem cable between serial lines of two guests, made of FIFOs (no ptys needed).
//
// Each end `<dir>/<name>.<a|b>` is two FIFOs: `.out` (the guest writes) and `.in` (the
// guest reads). The guest opens both O_RDWR and passes them as `sslN=fd:<in>,fd:<out>`,
// so it never sees EOF and survives a restart of its peer. A relay (`socat`) copies
// a.out → b.in and b.out → a.in; with `log: true` it also writes a hex dump of every byte
// that crosses, with direction and time (`>` a→b, `<` b→a), to `<name>.log`.
// The FIFOs stay while the cable exists, so restarting the relay (log toggled, or after it
// died) never disturbs the guests.
import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import * as host from "../host/process";
import { schemas, validate, CheckFailure, UNKNOWN } from "../core/schemas";

/** Builds the SerialCable schema (in a function: zod objects do not serialize into state). */
export function serialCableSchema() {
  const s = schemas();
  return z.object({
    labDir: z.union([z.literal(UNKNOWN), s.path]),
    name: s.name,
    log: z.boolean().default(false),
  });
}
export type SerialCableInputs = z.output<ReturnType<typeof serialCableSchema>>;

export interface SerialCableOutputs extends SerialCableInputs {
  /** Give these to Guest `serial` entries: `cable:<path prefix>`. */
  endA: string;
  endB: string;
  /** The byte log (hex dump) when `log` is on. */
  logPath: string;
  pid: number;
  instance: string;
}

export function cablePaths(labDir: string, name: string) {
  const base = `${labDir}/ser/${name}`;
  return {
    dir: `${labDir}/ser`,
    a: `${base}.a`,
    b: `${base}.b`,
    fifos: [`${base}.a.in`, `${base}.a.out`, `${base}.b.in`, `${base}.b.out`],
    log: `${base}.log`,
  };
}

/** The relay's argv: socat between the two ends, each read from `.out` and written to the other's `.in`. */
export function relayCommand(c: SerialCableInputs): { cmd: string; args: string[] } {
  const p = cablePaths(c.labDir, c.name);
  const end = (e: string) => `OPEN:${e}.out,rdwr!!OPEN:${e}.in,rdwr`;
  return { cmd: "socat", args: [...(c.log ? ["-x"] : []), "-b", "4096", end(p.a), end(p.b)] };
}

/** Only the place of the cable makes new FIFOs (and so reboots its guests); `log` changes in place. */
export function planSerialCable(olds: SerialCableInputs, news: SerialCableInputs): pulumi.dynamic.DiffResult {
  const replaces = (["labDir", "name"] as const).filter((k) => olds[k] !== news[k]);
  return { changes: replaces.length > 0 || olds.log !== news.log, replaces, deleteBeforeReplace: true };
}

async function startRelay(c: SerialCableInputs): Promise<{ pid: number; instance: string }> {
  const p = cablePaths(c.labDir, c.name);
  const { cmd, args } = relayCommand(c);
  const pid = host.spawnDetached(cmd, args, { logFile: p.log });
  await host.sleep(200);
  const instance = host.processInstance(pid);
  if (!instance) {
    let tail = "";
    try {
      tail = host.lastLines(fs.readFileSync(p.log, "utf8"), 10);
    } catch {
      /* none */
    }
    throw new Error(`SerialCable ${c.name}: socat exited at once\n${tail}`);
  }
  return { pid, instance };
}

export function checkSerialCable(news: any): { inputs: any; failures?: CheckFailure[] } {
  const r = validate(serialCableSchema(), news);
  return r.ok ? { inputs: r.value } : { inputs: news, failures: r.failures };
}

export const serialCableProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: any, news: any) {
    return checkSerialCable(news);
  },

  async diff(_id: string, olds: any, news: any) {
    return planSerialCable(olds, news);
  },

  async create(inputs: any) {
    const c = inputs as SerialCableInputs;
    const p = cablePaths(c.labDir, c.name);
    fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    // Keep FIFOs that exist: running guests may hold them (the relay died and is restarted).
    for (const f of p.fifos) if (!fs.existsSync(f)) await host.run("mkfifo", ["-m", "0600", f]);
    const relay = await startRelay(c);
    const outs: SerialCableOutputs = {
      ...c,
      endA: `cable:${p.a}`,
      endB: `cable:${p.b}`,
      logPath: p.log,
      ...relay,
    };
    return { id: `${c.name}@${c.labDir}`, outs };
  },

  async read(id: string, props: any) {
    const o = props as SerialCableOutputs;
    if (!host.sameRun(o.pid, o.instance)) return { id: "", props: {} };
    return { id, props };
  },

  async update(_id: string, olds: any, news: any) {
    const o = olds as SerialCableOutputs;
    const n = news as SerialCableInputs;
    await host.stopRun(o.pid, o.instance);
    const relay = await startRelay(n);
    return { outs: { ...o, ...n, ...relay } };
  },

  async delete(_id: string, props: any) {
    const o = props as SerialCableOutputs;
    await host.stopRun(o.pid, o.instance);
    const p = cablePaths(o.labDir, o.name);
    for (const f of [...p.fifos, p.log]) fs.rmSync(f, { force: true });
  },
};
