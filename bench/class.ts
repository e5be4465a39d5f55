// `npm run bench -- class`: a class of K students x examples/ospf-ring (K =
// UMLAB_CLASS_STUDENTS, default 30; profile UMLAB_CLASS_PROFILE, default class; parallelism
// UMLAB_CLASS_PARALLEL, default 2) brought up through `umlab class up`'s own code (cmdClass), in
// a file backend and runtime root of its own. Figures: time to bring the class up, students whose
// checks pass, host RAM per router (PSS), idle CPU of the whole class (UML + switch processes,
// 20 s), the reroute outage after student 1's transit node is killed; beside K plain-script rings
// (bench/ospf.ts plainRing, same image and FRR files) all running at once. Where it breaks: the
// admission's verdict (how many students this host holds) and the first student whose checks fail.
import * as fs from "fs";
import * as os from "os";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import type { Figure } from "./index";
import { timed, labWorkspace, groupPssKiB, idleCores, pgidOf } from "./measure";
import { plainRing } from "./ospf";
import { waitFor, sleep } from "../provider/host/process";
import { buildImage, resolveSpec } from "../provider/image/provider";
import { cmdClass } from "../cli/class";
import { admit, studentCost, stackOf } from "../cli/class-plan";
import { ensurePulumiOnPath, killGroupsMentioning, processesMentioning } from "../tests/helpers/lab";
import { recordRoute, startPing } from "../tests/helpers/ospf";
import { daemons, nodes, parseProfile, profileBfd, PACKAGES } from "../examples/ospf-ring/ring";

interface NodeInfo {
  name: string;
  pid: number;
  guestDir: string;
}

const IDLE_SECONDS = 20;
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

/** K plain rings up at once (each one's script timed in turn); `whileUp` gets every guest pid. */
async function plainRings(
  k: number,
  backing: string,
  bfd: boolean,
  whileUp: (guestPids: number[]) => Promise<void>,
  held: number[] = [],
): Promise<number> {
  let rest = 0;
  const first = await plainRing(backing, {
    bfd,
    whileUp: async (pids) => {
      const guests = [...held, ...pids.slice(4)];
      rest = k > 1 ? await plainRings(k - 1, backing, bfd, whileUp, guests) : (await whileUp(guests), 0);
    },
  });
  return first + rest;
}

export async function benchClass(): Promise<Figure[]> {
  ensurePulumiOnPath();
  const k = Number(process.env.UMLAB_CLASS_STUDENTS ?? 30);
  const profile = parseProfile(process.env.UMLAB_CLASS_PROFILE ?? "class");
  const parallel = process.env.UMLAB_CLASS_PARALLEL ?? "2";
  const bfd = profileBfd(profile);
  const { workDir, scratch, runtime, env } = labWorkspace("ospf-ring", "class");
  const saved = { ...process.env };
  const umask = process.umask();
  Object.assign(process.env, env);
  const figures: Figure[] = [];
  const label = `${k} students, profile ${profile}`;
  try {
    // What the admission will say (the same arithmetic cmdClass runs on a preview).
    const cost = studentCost(
      nodes.map(() => ({ files: { "/etc/frr/daemons": daemons(bfd) } })),
      [{ preset: "debian" }],
    );
    const memAvail =
      Number(/^MemAvailable:\s+(\d+)/m.exec(fs.readFileSync("/proc/meminfo", "utf8"))?.[1]) * 1024;
    const adm = admit(k, cost, { cores: os.cpus().length, memAvailable: memAvail });
    console.log(`bench class: ${label}: ${adm.message}`);
    figures.push({
      name: `admission: students of profile ${profile} this host holds`,
      value: adm.fit,
      unit: "students",
    });
    const image = await buildImage(resolveSpec({ preset: "debian", packages: PACKAGES }));

    const args = [
      "up",
      workDir,
      "--students",
      String(k),
      "--set",
      `profile=${profile}`,
      "--parallel",
      parallel,
    ];
    const [code, upSecs] = await timed(() => cmdClass(args));
    if (code === 3) {
      console.log(`bench class: where it breaks: admission refused ${k} students (holds ${adm.fit})`);
      return figures;
    }
    // Each student's outputs, read from its stack (the state `umlab class status` reads).
    const infos: { ok: boolean; nodes: NodeInfo[] }[] = [];
    for (let i = 1; i <= k; i++) {
      const st = await LocalWorkspace.selectStack(
        { stackName: stackOf({ name: `s${i}` }), workDir },
        { envVars: env },
      );
      const out = await st.outputs();
      infos.push({ ok: out.checksOk?.value === true, nodes: (out.nodeInfo?.value ?? []) as NodeInfo[] });
    }
    const passing = infos.filter((s) => s.ok).length;
    const firstFail = infos.findIndex((s) => !s.ok);
    console.log(
      `bench class: where it breaks: ${firstFail < 0 ? `no student failed (admission holds ${adm.fit})` : `first student whose checks fail: s${firstFail + 1}`}`,
    );
    const routers = infos.flatMap((s) => s.nodes);
    const upFig: Figure = { name: `class up (${label}, --parallel ${parallel})`, value: upSecs, unit: "s" };
    figures.push(upFig);
    figures.push({ name: `students whose checks pass (of ${k})`, value: passing, unit: "students" });

    await sleep(10_000);
    const groups = [...new Set(processesMentioning(runtime).map((p) => p.pgid))].filter(
      (g) => g !== process.pid,
    );
    const classCpu = await idleCores(groups, IDLE_SECONDS);
    const pss = avg(routers.map((r) => groupPssKiB(r.pid))) / 1024;

    // Reroute: student 1's transit node (node04) killed, a 50 ms ping node01 -> node03's VIPA.
    const node01 = infos[0].nodes[0];
    const viaNode04 = async () => (await recordRoute(node01, "192.168.100.3")).includes("192.168.3.4");
    await waitFor(viaNode04, 60_000, 250);
    const ping = await startPing(node01, "192.168.100.3");
    await sleep(1000);
    process.kill(-pgidOf(infos[0].nodes[3].pid), "SIGKILL");
    await sleep(8000);
    const reroute = (await ping.stop()).outageSeconds;

    // The class goes down first: the floor must not share the host with it.
    await cmdClass(["down", workDir]);
    // The floor: the same number of routers from K plain scripts, all up at once.
    let plainCpu = 0;
    let plainPss = 0;
    const plainSecs = await plainRings(k, image.path, bfd, async (guests) => {
      await sleep(10_000);
      plainCpu = await idleCores(guests.map(pgidOf), IDLE_SECONDS);
      plainPss = avg(guests.map((g) => groupPssKiB(pgidOf(g)))) / 1024;
    });
    upFig.baseline = plainSecs;
    upFig.baselineLabel = `${k} plain-script rings, one after another`;
    figures.push(
      {
        name: `host RAM per router (PSS, ${label})`,
        value: pss,
        unit: "MiB",
        baseline: plainPss,
        baselineLabel: "plain-script router",
      },
      {
        name: `idle CPU of the class (${routers.length} routers + switches, ${IDLE_SECONDS} s)`,
        value: classCpu,
        unit: "cores",
        baseline: plainCpu,
        baselineLabel: "plain-script routers (UML only)",
      },
      { name: "idle CPU per router", value: classCpu / Math.max(routers.length, 1), unit: "cores" },
      {
        name: `reroute: student 1's transit node killed (ping every 50 ms, ${profile})`,
        value: reroute,
        unit: "s",
      },
    );
  } finally {
    await cmdClass(["down", workDir]).catch((e) => console.log(`bench class: down: ${e}`));
    await LocalWorkspace.create({ workDir, envVars: env })
      .then(async (ws) => {
        for (const s of await ws.listStacks()) await ws.removeStack(s.name, { force: true });
      })
      .catch(() => undefined);
    killGroupsMentioning(runtime);
    for (const f of fs.readdirSync(workDir))
      if (/^Pulumi\.student-s\d+\.yaml$/.test(f)) fs.rmSync(`${workDir}/${f}`, { force: true });
    fs.rmSync(runtime, { recursive: true, force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
    process.env = saved;
    process.umask(umask);
  }
  return figures;
}
