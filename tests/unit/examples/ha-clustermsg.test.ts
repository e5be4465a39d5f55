// examples/ha-cluster/cluster.ts clusterMsgFix: heartbeat's scripts send a cluster message
// through its FIFO with the shell function ha_clustermsg, and heartbeat's FIFO reader gives up
// a message that is not whole when its 1 s alarm interrupts the read. heartbeat 3.0.6's own
// function writes ">>>" first and the body only once a second `cat` runs; the replacement
// writes the whole message in one write. Shown on the host with a real FIFO, a reader that
// records what each read returns, and a `cat` made slow (a busy UML guest forks and execs
// slowly): heartbeat's function splits the message, the replacement never does.
import * as child_process from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  clusterMsgFix,
  nodeStartup,
  CLUSTERMSG_FILE,
  SHELLFUNCS,
} from "../../../examples/ha-cluster/cluster";

/** heartbeat 3.0.6's ha_clustermsg, as in Debian bookworm's /etc/ha.d/shellfuncs. */
const HEARTBEAT_CLUSTERMSG = `ha_clustermsg() {
	(echo ">>>"; cat -; echo "<<<")	| cat - >> $HA_FIFO
}
`;
const BODY = "t=ip-request-resp\ndest=one\nipaddr=Filesystem::/dev/ubdb::/srv/ha::ext4\nweown=yes\nok=OK\n";
const SLOW_CAT_SECONDS = 1;

let dir = "";
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-clustermsg-"));
  // A `cat` that starts late, as a freshly forked one does in a loaded guest, unless it writes
  // to the FIFO itself (heartbeat's outer `cat`, already running, forwards what it gets at once).
  const realCat = child_process.execFileSync("sh", ["-c", "command -v cat"], { encoding: "utf8" }).trim();
  fs.mkdirSync(path.join(dir, "bin"));
  fs.writeFileSync(
    path.join(dir, "bin", "cat"),
    `#!/bin/sh\n[ "$(readlink /proc/$$/fd/1)" = "$HA_FIFO" ] || sleep ${SLOW_CAT_SECONDS}\nexec ${realCat} "$@"\n`,
    { mode: 0o755 },
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Send BODY with `fn`'s ha_clustermsg into a fresh FIFO; what each read of the FIFO returned. */
async function reads(fn: string, name: string): Promise<string[]> {
  const fifo = path.join(dir, `${name}.fifo`);
  child_process.execFileSync("mkfifo", [fifo]);
  const chunks: string[] = [];
  const reader = new Promise<void>((resolve, reject) => {
    const s = fs.createReadStream(fifo, { encoding: "utf8" });
    s.on("data", (c) => chunks.push(c as string));
    s.on("end", () => resolve());
    s.on("error", reject);
  });
  const writer = new Promise<number | null>((resolve) => {
    const p = child_process.spawn("sh", ["-c", `${fn}\nha_clustermsg <<'!MSG'\n${BODY}!MSG\n`], {
      env: { ...process.env, HA_FIFO: fifo, PATH: `${path.join(dir, "bin")}:${process.env.PATH}` },
      stdio: ["ignore", "inherit", "inherit"],
    });
    p.on("exit", (code) => resolve(code));
  });
  expect(await writer).toBe(0);
  await reader;
  return chunks;
}

const tmpLeft = () => fs.readdirSync("/tmp").filter((f) => f.startsWith("ha_clustermsg.")).length;

test("heartbeat's ha_clustermsg: the FIFO gets '>>>' alone, the body a second later (the reader's alarm can cut there)", async () => {
  const got = await reads(HEARTBEAT_CLUSTERMSG, "heartbeat");
  expect(got.length).toBeGreaterThan(1);
  expect(got[0]).toBe(">>>\n");
  expect(got.join("")).toBe(`>>>\n${BODY}<<<\n`);
}, 30_000);

test("clusterMsgFix's ha_clustermsg: one read returns the whole message, and no temp file is left", async () => {
  const before = tmpLeft();
  const got = await reads(clusterMsgFix(), "fixed");
  expect(got).toEqual([`>>>\n${BODY}<<<\n`]);
  expect(tmpLeft()).toBe(before);
}, 30_000);

test("clusterMsgFix's ha_clustermsg fails when the FIFO cannot be written, and still removes its file", () => {
  const before = tmpLeft();
  const r = child_process.spawnSync(
    "sh",
    ["-c", `${clusterMsgFix()}\nha_clustermsg <<'!MSG'\nt=x\n!MSG\necho rc=$?`],
    { env: { ...process.env, HA_FIFO: path.join(dir, "no", "such", "fifo") }, encoding: "utf8" },
  );
  expect(r.stdout).toMatch(/^rc=[1-9]/m);
  expect(tmpLeft()).toBe(before);
});

test("the nodes' startup sources the replacement at the end of heartbeat's shellfuncs, once, before heartbeat starts", () => {
  const s = nodeStartup(true);
  const line = `grep -qxF '. ${CLUSTERMSG_FILE}' ${SHELLFUNCS} || echo '. ${CLUSTERMSG_FILE}' >>${SHELLFUNCS}`;
  expect(s).toContain(line);
  expect(s.indexOf(line)).toBeLessThan(s.indexOf("/etc/init.d/heartbeat start"));
  // Run twice (a reboot keeps the root disk): one line appended.
  const f = path.join(dir, "shellfuncs");
  fs.writeFileSync(f, HEARTBEAT_CLUSTERMSG);
  const twice = line.split(SHELLFUNCS).join(f);
  child_process.execFileSync("sh", ["-c", `${twice}\n${twice}`]);
  expect(fs.readFileSync(f, "utf8")).toBe(`${HEARTBEAT_CLUSTERMSG}. ${CLUSTERMSG_FILE}\n`);
});
