// A Host given as a @pulumi/command connection (the object remote.Command takes): mapped onto
// the fields form, so both reach the same host; what umlab's ssh cannot honour is refused by
// field, hostile values are refused as in the fields form, and no key contents reach the Host.
import {
  checkHost,
  parseHost,
  remoteArgv,
  sameHost,
  type HostInput,
} from "../../../provider/host/remote-argv";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----\n";
const connection = { host: "192.0.2.2", port: 2222, user: "umlab", privateKey: KEY };
const own = { name: "host-b", runtimeRoot: "/var/tmp/umlab", cache: "/var/cache/umlab" };
const viaConnection: HostInput = {
  ...own,
  connection,
  privateKey: "/home/me/.ssh/umlab_ed25519",
  knownHosts: "/home/me/.ssh/known_hosts",
};
const props = (v: unknown) => {
  const r = checkHost(v);
  return r.ok ? [] : r.failures.map((f) => f.property);
};

describe("Host from a @pulumi/command connection", () => {
  test("maps host/port/user onto the same Host as the fields form, and the same ssh argv", () => {
    const h = parseHost(viaConnection);
    const fields = parseHost({
      ...own,
      address: "192.0.2.2",
      port: 2222,
      user: "umlab",
      privateKey: "/home/me/.ssh/umlab_ed25519",
      knownHosts: "/home/me/.ssh/known_hosts",
    });
    expect(h).toEqual(fields);
    expect(sameHost(h, fields)).toBe(true);
    expect(remoteArgv(h, "/opt/umlab")).toEqual(remoteArgv(fields, "/opt/umlab"));
    // The key's contents (remote.Command's) never reach the Host, so never the state.
    expect(JSON.stringify(h)).not.toMatch(/PRIVATE KEY|b3BlbnNzaC1rZXk/);
    expect(h).not.toHaveProperty("connection");
  });

  test("defaults as remote.Command's: port 22, user root; a key given as a path is used as it is", () => {
    const h = parseHost({ ...own, connection: { host: "hostb.example", privateKey: "/k/id" } });
    expect([h.address, h.port, h.user, h.privateKey]).toEqual(["hostb.example", 22, "root", "/k/id"]);
  });

  test("dialErrorLimit and perDialTimeout are accepted (remote.Command's defaults fill them)", () => {
    expect(
      props({ ...viaConnection, connection: { ...connection, dialErrorLimit: 10, perDialTimeout: 15 } }),
    ).toEqual([]);
  });

  test.each([
    ["password", "hunter2"],
    ["privateKeyPassword", "x"],
    ["agentSocketPath", "/run/agent.sock"],
    ["proxy", { host: "bastion" }],
    ["command", "sh"],
  ])("connection.%s is refused naming it", (k, v) => {
    expect(props({ ...viaConnection, connection: { ...connection, [k]: v } })).toEqual([
      `host.connection.${k}`,
    ]);
  });

  test("key or host key contents without the files umlab's ssh reads are refused with the fix", () => {
    const { privateKey: _k, ...noKeyFile } = viaConnection as Record<string, unknown>;
    const r = checkHost(noKeyFile);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.failures[0]).toMatchObject({
        property: "host.connection.privateKey",
        reason: /add privateKey/,
      });
    const { knownHosts: _h, ...noKnownHosts } = viaConnection as Record<string, unknown>;
    const withHostKey = { ...noKnownHosts, connection: { ...connection, hostKey: "ssh-ed25519 AAAA" } };
    expect(props(withHostKey)).toEqual(["host.connection.hostKey"]);
    expect(props({ ...withHostKey, knownHosts: "/k/known_hosts" })).toEqual([]);
  });

  test("hostile connection values are refused as in the fields form, named as written", () => {
    for (const bad of ["-oProxyCommand=sh", "a b", "$(id)", "x;y", ""])
      expect(props({ ...viaConnection, connection: { ...connection, host: bad } })).toEqual([
        "host.connection.host",
      ]);
    expect(props({ ...viaConnection, connection: { ...connection, user: "root -oX" } })).toEqual([
      "host.connection.user",
    ]);
    expect(props({ ...viaConnection, connection: { ...connection, port: 0 } })).toEqual([
      "host.connection.port",
    ]);
    expect(props({ ...viaConnection, connection: { ...connection, host: undefined } })).toEqual([
      "host.connection.host",
    ]);
  });

  test("the address given twice, a non-object, or a pulumi Output is refused", () => {
    expect(props({ ...viaConnection, address: "192.0.2.3" })).toEqual(["host.address"]);
    expect(props({ ...viaConnection, user: "root" })).toEqual(["host.user"]);
    expect(props({ ...own, connection: "root@192.0.2.2" })).toContain("host.connection");
    expect(props({ ...own, connection: { __pulumiOutput: true, host: "192.0.2.2" } })).toContain(
      "host.connection",
    );
  });
});
