// A component placed on another host: the same provider, its create/read/update/delete run
// there by provider/remote-main.ts (over ssh, remote.ts), so every file and process call
// happens on that host against its own runtime root. check and diff stay here (pure).
// Inputs without `host` go straight to the component's own handlers: nothing changes for them.
//
// Files a component names that live here (a CowDisk's backing image) are copied to the
// host's cache by content first (remote-images.ts); the outputs then name the host's copy,
// and `__staged` remembers the path given here, so the next diff compares like with like.
import type * as pulumi from "@pulumi/pulumi";
import { checkHost, sameHost, type Host } from "./remote-argv";
import { callRemote } from "./remote";
import { stageImage } from "./remote-images";

/** Per provider: the input fields naming a local image that must be on the host first. */
export const STAGED_FIELDS: Record<string, string[]> = { cowDiskProvider: ["backing"] };

/** Providers that run where the program runs, never on a host. */
export const LOCAL_ONLY = new Set(["imageProvider"]);

type Staged = Record<string, { from: string; sha256: string }>;

function split(props: any): { host?: Host; rest: any; staged?: Staged } {
  if (!props || typeof props !== "object" || props.host === undefined) return { rest: props };
  const { host, __staged, ...rest } = props;
  return { host, rest, staged: __staged };
}

/** The inputs as given here: staged fields back to the local paths they were copied from (pure). */
export function asGiven(rest: any, staged: Staged | undefined): any {
  if (!staged) return rest;
  const out = { ...rest };
  for (const [k, s] of Object.entries(staged)) if (out[k] !== undefined) out[k] = s.from;
  return out;
}

/** Wrap a component's provider so that inputs with a `host` run on that host. */
export function remoteCapable(
  name: string,
  inner: pulumi.dynamic.ResourceProvider,
): pulumi.dynamic.ResourceProvider {
  if (LOCAL_ONLY.has(name)) return inner;
  const call = (h: Host, method: "create" | "read" | "update" | "delete", args: unknown[]) =>
    callRemote(h, { op: "handler", provider: name, method, args });

  return {
    async check(olds: any, news: any) {
      const n = split(news);
      if (n.host === undefined) return inner.check ? inner.check(olds, news) : { inputs: news };
      const failures: { property: string; reason: string }[] = [];
      const h = checkHost(n.host);
      if (!h.ok) failures.push(...h.failures);
      const r = inner.check ? await inner.check(split(olds).rest, n.rest) : { inputs: n.rest };
      const all = [...(r.failures ?? []), ...failures];
      const inputs = { ...r.inputs, host: h.ok ? h.host : n.host };
      return all.length ? { inputs, failures: all } : { inputs };
    },

    async diff(id: string, olds: any, news: any) {
      const o = split(olds);
      const n = split(news);
      if (o.host === undefined && n.host === undefined) return inner.diff ? inner.diff(id, olds, news) : {};
      if (!sameHost(o.host, n.host)) return { changes: true, replaces: ["host"], deleteBeforeReplace: true };
      const d = inner.diff ? await inner.diff(id, asGiven(o.rest, o.staged), n.rest) : {};
      // Only how ssh logs in changed (key, known_hosts): recorded in place.
      if (!d.changes && JSON.stringify(o.host) !== JSON.stringify(n.host)) return { ...d, changes: true };
      return d;
    },

    async create(inputs: any) {
      const { host, rest } = split(inputs);
      if (!host) return inner.create(inputs);
      const staged: Staged = {};
      const there = { ...rest };
      for (const f of STAGED_FIELDS[name] ?? []) {
        if (typeof rest[f] !== "string" || rest[f] === "") continue;
        const s = await stageImage(host, rest[f]);
        staged[f] = { from: rest[f], sha256: s.sha256 };
        there[f] = s.path;
      }
      const r = (await call(host, "create", [there])) as { id: string; outs: any };
      return {
        id: r.id,
        outs: { ...r.outs, host, ...(Object.keys(staged).length ? { __staged: staged } : {}) },
      };
    },

    async read(id: string, props: any) {
      const { host, rest, staged } = split(props);
      if (!host) return inner.read ? inner.read(id, props) : { id, props };
      const r = (await call(host, "read", [id, rest])) as { id: string; props: any };
      if (!r.id) return r;
      return { id: r.id, props: { ...r.props, host, ...(staged ? { __staged: staged } : {}) } };
    },

    async update(id: string, olds: any, news: any) {
      const o = split(olds);
      const n = split(news);
      if (!o.host || !n.host) {
        if (!inner.update) throw new Error("umlab: this component has no in-place changes");
        return inner.update(id, olds, news);
      }
      const d = inner.diff ? await inner.diff(id, asGiven(o.rest, o.staged), n.rest) : { changes: true };
      let outs = o.rest;
      if (d.changes !== false) {
        // The staged fields did not change (else a replace): the host's copies stand.
        const there = { ...n.rest };
        for (const [k] of Object.entries(o.staged ?? {})) there[k] = o.rest[k];
        outs = ((await call(n.host, "update", [id, o.rest, there])) as { outs: any }).outs;
      }
      return { outs: { ...outs, host: n.host, ...(o.staged ? { __staged: o.staged } : {}) } };
    },

    async delete(id: string, props: any) {
      const { host, rest } = split(props);
      if (!host) return inner.delete ? inner.delete(id, props) : undefined;
      await call(host, "delete", [id, rest]);
    },
  };
}
