// The pure decision for a guest update: which inputs reboot it (a replace) and which NIC
// operations UML applies to the running guest. Both come from the change policies in
// core/schemas/guest.ts (guestPolicy, nicPolicy). No I/O here.
import { guestPolicy, nicPolicy, GuestInputs, NicInputs, UNKNOWN } from "../core/schemas";
import { normalizeGuestPath } from "../core/schemas/fields";
import { planFromPolicy, fieldsWith, same, PolicyPlan } from "../core/diff";

/** Inputs the guest reads only at boot: changing any of them reboots it (a replace). */
export const REBOOT_KEYS = fieldsWith(guestPolicy, "replace") as (keyof GuestInputs)[];

/** NIC fields whose change re-plugs the NIC (mconsole remove + config). */
const REPLUG_KEYS = fieldsWith(nicPolicy, "replace") as (keyof NicInputs)[];

export type NicOp =
  | { kind: "attach"; index: number }
  | { kind: "detach"; index: number }
  | { kind: "replug"; index: number }
  | { kind: "readdress"; index: number }
  | { kind: "link"; index: number }
  | { kind: "netem"; index: number };

export interface GuestPlan extends PolicyPlan {
  /** In-place NIC operations, in the order to apply them; undefined when NICs are unknown. */
  nicOps?: NicOp[];
  /** In-place disk operations (hot-plug, guest/hotplug.ts); only when some disk changed in place. */
  diskOps?: DiskOp[];
}

/** Plug or unplug ubd`index` of a running guest (mconsole config / remove). */
export type DiskOp = { kind: "plug"; index: number } | { kind: "unplug"; index: number };

type Disk = GuestInputs["disks"][number];

/**
 * How disk list `olds` becomes `news` in a running guest, or undefined when it cannot be done
 * in place (a replace): the root disk (ubd0) changed, or a plugged or unplugged disk has a
 * backing file (a COW disk: UML rewrites a COW header whose backing path differs, so its
 * backing is only ever given at boot). Unplugs from the end first, then plugs in order; a disk
 * whose file changed is unplugged and plugged again.
 */
export function planDisks(olds: Disk[], news: Disk[]): DiskOp[] | undefined {
  if (olds.length === 0 || news.length === 0 || !same(olds[0], news[0])) return undefined;
  const changed = (i: number) => i >= olds.length || i >= news.length || !same(olds[i], news[i]);
  const touched = [...Array(Math.max(olds.length, news.length)).keys()].filter((i) => i > 0 && changed(i));
  if (touched.some((i) => olds[i]?.backing !== undefined || news[i]?.backing !== undefined)) return undefined;
  const ops: DiskOp[] = [];
  for (const i of [...touched].reverse()) if (i < olds.length) ops.push({ kind: "unplug", index: i });
  for (const i of touched) if (i < news.length) ops.push({ kind: "plug", index: i });
  return ops;
}

/** A NIC's netem settings with zeros for unset values, or undefined when there is nothing to apply. */
export function netemSettings(
  nic: Pick<NicInputs, "netem">,
): { loss: number; delay: number; jitter: number; rate: number } | undefined {
  const n = nic.netem;
  if (!n) return undefined;
  const s = {
    loss: n.lossPercent ?? 0,
    delay: n.delayMs ?? 0,
    jitter: n.jitterMs ?? 0,
    rate: n.rateKbit ?? 0,
  };
  return s.loss || s.delay || s.jitter || s.rate ? s : undefined;
}

/** Set by `read` (refresh) on a NIC whose switch process is gone: its link is dead. */
export const SWITCH_GONE = "gone";

/**
 * Must this NIC be re-plugged? With the switch's outputs known (apply time), any change of a
 * replace field of nicPolicy (a new switch process, control path or MAC) says so. During a
 * preview a switch that is being updated has unknown outputs; then only what is known decides:
 * a new generation (the switch is replaced), a switch that refresh found dead, or a new MAC,
 * engine or control. The instance is judged only when all of the switch's outputs are known.
 */
export function needsReplug(o: NicInputs, n: NicInputs): boolean {
  if (!REPLUG_KEYS.some((k) => n[k] === UNKNOWN)) return REPLUG_KEYS.some((k) => !same(o[k], n[k]));
  return (
    (o.switchGeneration ?? "") !== (n.switchGeneration ?? "") ||
    o.switchInstance === SWITCH_GONE ||
    REPLUG_KEYS.some((k) => k !== "switchInstance" && n[k] !== UNKNOWN && !same(o[k], n[k]))
  );
}

/**
 * How NIC list `olds` becomes `news` in a running guest (ethN is nics[N]): detaches from the
 * end first, then per NIC a re-plug, or the in-place fields of nicPolicy (a re-address also
 * applies the link state; netem on its own), then attaches.
 */
export function planNics(olds: NicInputs[], news: NicInputs[]): NicOp[] {
  const ops: NicOp[] = [];
  for (let i = olds.length - 1; i >= news.length; i--) ops.push({ kind: "detach", index: i });
  for (let i = 0; i < Math.min(olds.length, news.length); i++) {
    const o = olds[i];
    const n = news[i];
    // A re-plugged NIC gets everything again (a new interface has no address and no qdisc).
    if (needsReplug(o, n)) {
      ops.push({ kind: "replug", index: i });
      continue;
    }
    if (!same(o.addresses, n.addresses)) ops.push({ kind: "readdress", index: i });
    else if (!same(o.linkDown, n.linkDown)) ops.push({ kind: "link", index: i });
    if (!same(netemSettings(o), netemSettings(n))) ops.push({ kind: "netem", index: i });
  }
  for (let i = olds.length; i < news.length; i++) ops.push({ kind: "attach", index: i });
  return ops;
}

/**
 * What the guest sees, for comparing: a hostname equal to the name is the default (unset), file paths with
 * repeated slashes name the same file, and states from before NICs existed have none.
 */
export function normalizeGuest(g: GuestInputs): GuestInputs {
  const files = g.files ?? {};
  return {
    ...g,
    hostname: g.hostname === g.name ? undefined : g.hostname,
    files: Object.fromEntries(Object.entries(files).map(([k, v]) => [normalizeGuestPath(k), v])),
    nics: g.nics ?? [],
  };
}

/** The pure decision: what changed, what needs a reboot (replace), what UML changes in place. */
export function planGuest(oldInputs: GuestInputs, newInputs: GuestInputs): GuestPlan {
  const olds = normalizeGuest(oldInputs);
  const news = normalizeGuest(newInputs);
  const plan: GuestPlan = planFromPolicy(guestPolicy, olds, news);
  // Disks other than the root one are plugged in place (planDisks); ubd0 replaces.
  const diskOps = plan.replaces.includes("disks") ? planDisks(olds.disks, news.disks) : undefined;
  if (diskOps) {
    plan.replaces = plan.replaces.filter((k) => k !== "disks");
    plan.diskOps = diskOps;
  }
  if (olds.nics === UNKNOWN || news.nics === UNKNOWN) {
    // Known at update time; every NIC change can be applied in place.
    plan.changes.push("nics");
    plan.nicOps = undefined;
  } else {
    plan.nicOps = planNics(olds.nics as NicInputs[], news.nics as NicInputs[]);
    if (plan.nicOps.length > 0) plan.changes.push("nics");
  }
  // In the policy's order (the preview lists them so).
  const order = Object.keys(guestPolicy);
  plan.changes.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return plan;
}
