// callRemote against sshd's MaxStartups: a connection turned away before login (nothing ran
// there) is sent again, any other ssh failure is not, and one process never has more than
// MAX_REQUESTS_PER_HOST requests open to a host. A stand-in `ssh` on PATH plays the server.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  callRemote,
  turnedAwayBeforeLogin,
  MAX_REQUESTS_PER_HOST,
  HostUnreachable,
} from "../../../provider/host/remote";
import { parseHost } from "../../../provider/host/remote-argv";

const host = parseHost({
  name: "host-b",
  address: "192.0.2.2",
  runtimeRoot: "/var/tmp/umlab",
  cache: "/var/cache/umlab",
});

let dir: string;
const savedPath = process.env.PATH;

/** A stand-in ssh: `turnAway` first calls fail as sshd's MaxStartups does; then it answers. */
function fakeSsh(
  turnAway: number,
  failure = "kex_exchange_identification: Connection closed by remote host",
) {
  fs.writeFileSync(
    path.join(dir, "ssh"),
    `#!/bin/sh
cat >/dev/null
d=${dir}
n=$(ls -d "$d"/calls.* 2>/dev/null | wc -l); : >"$d/calls.$$"
now=$(ls -d "$d"/open.* 2>/dev/null | wc -l); : >"$d/open.$$"; echo $((now + 1)) >>"$d/peaks"
if [ "$n" -lt ${turnAway} ]; then rm -f "$d/open.$$"; echo '${failure}' >&2; exit 255; fi
sleep 0.3
rm -f "$d/open.$$"
echo '{"umlabRemote":1,"ok":true,"result":"done"}'
`,
    { mode: 0o755 },
  );
}
const calls = () => fs.readdirSync(dir).filter((f) => f.startsWith("calls.")).length;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-remote-retry-"));
  process.env.PATH = `${dir}:${savedPath}`;
});
afterEach(() => {
  process.env.PATH = savedPath;
  fs.rmSync(dir, { recursive: true, force: true });
});

test("turned away before login: only ssh's own exit 255 with a kex refusal", () => {
  expect(turnedAwayBeforeLogin(255, "kex_exchange_identification: Connection closed by remote host")).toBe(
    true,
  );
  expect(turnedAwayBeforeLogin(255, "ssh_exchange_identification: read: Connection reset by peer")).toBe(
    true,
  );
  expect(turnedAwayBeforeLogin(255, "Permission denied (publickey).")).toBe(false);
  expect(turnedAwayBeforeLogin(255, "ssh: connect to host 192.0.2.2 port 22: Connection refused")).toBe(
    false,
  );
  // A remote command's own exit code is never retried, whatever it printed.
  expect(turnedAwayBeforeLogin(1, "kex_exchange_identification")).toBe(false);
});

test("a request sshd turned away twice is sent again and answers", async () => {
  fakeSsh(2);
  await expect(callRemote(host, { op: "capacity" })).resolves.toBe("done");
  expect(calls()).toBe(3);
});

test("a login refused is not retried: one try, the host named", async () => {
  fakeSsh(99, "Permission denied (publickey).");
  await expect(callRemote(host, { op: "capacity" })).rejects.toThrow(HostUnreachable);
  expect(calls()).toBe(1);
});

test("turned away every time: it gives up after 6 tries with the host's error", async () => {
  fakeSsh(99);
  await expect(callRemote(host, { op: "capacity" })).rejects.toThrow(
    /host "host-b".*cannot be reached over SSH/,
  );
  expect(calls()).toBe(6);
}, 30_000);

test(`20 requests at once: at most ${MAX_REQUESTS_PER_HOST} open to the host at a time`, async () => {
  fakeSsh(0);
  const all = await Promise.all(Array.from({ length: 20 }, () => callRemote(host, { op: "capacity" })));
  expect(all).toEqual(Array(20).fill("done"));
  const peaks = fs.readFileSync(path.join(dir, "peaks"), "utf8").trim().split("\n").map(Number);
  expect(peaks).toHaveLength(20);
  expect(Math.max(...peaks)).toBeLessThanOrEqual(MAX_REQUESTS_PER_HOST);
  expect(Math.max(...peaks)).toBeGreaterThan(1); // they do run side by side
}, 30_000);
