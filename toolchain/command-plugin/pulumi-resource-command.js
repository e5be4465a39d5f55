#!/usr/bin/env node
// The `command` resource plugin for @pulumi/command, for machines that cannot download
// Pulumi's prebuilt plugin or fetch its Go module (ours: the module proxy here does not serve
// github.com/pulumi/pulumi-command). Written on the Node.js provider API of @pulumi/pulumi,
// which is resolved from the program's node_modules.
//
// Supported: local:Command (create/update/delete commands, dir, environment, interpreter,
// stdin, triggers, addPreviousOutputInEnv; outputs stdout/stderr), the local:run invoke, and
// remote:Command over the system OpenSSH client (connection host/port/user/privateKey/hostKey/
// agentSocketPath/dialErrorLimit/perDialTimeout/proxy, create/update/delete, environment,
// stdin, triggers, addPreviousOutputInEnv, logging accepted; outputs stdout/stderr).
// How remote:Command runs: `ssh -F none -T -o BatchMode=yes ... -- <host> <line>` with a fixed
// argv; the private key goes to a 0600 file in a fresh 0700 temp dir removed afterwards; the
// host key is checked strictly against connection.hostKey when given (a known_hosts holding
// only that key), otherwise trust-on-first-use (`StrictHostKeyChecking=accept-new`, in
// $UMLAB_COMMAND_KNOWN_HOSTS or ~/.ssh/known_hosts): pulumi-command would ignore the host key
// there, and a prompt cannot be answered under `pulumi up`. A proxy is a ProxyCommand of ssh
// (`ssh <its own options> -W %h:%p <proxy>`). The environment is not sent with ssh's SendEnv
// (sshd's default AcceptEnv takes only LANG/LC_*): the remote line is `env K='v' ... sh -c
// '<command>'`, every value single-quoted (' as '\''), names held to [A-Za-z_][A-Za-z0-9_]*;
// the remote login shell must be POSIX (sh, bash, dash, zsh), not csh or fish.
// Not supported: assetPaths/archivePaths, password and privateKeyPassword (BatchMode: no
// prompt; use an unencrypted key or an agent), remote:CopyToRemote and remote:CopyFile, a
// dialErrorLimit of -1 (taken as 100 attempts); `logging` is accepted and ignored.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const child_process = require("child_process");

const VERSION = "1.2.1";

function loadProviderApi() {
  const tries = [process.cwd(), __dirname];
  for (const from of tries) {
    try {
      return require(require.resolve("@pulumi/pulumi/provider", { paths: [from] }));
    } catch (_) {
      /* try the next place */
    }
  }
  console.error("pulumi-resource-command: @pulumi/pulumi is not installed here: run `npm install`");
  process.exit(1);
}

// Secrets arrive wrapped ({ <sig key>: <secret sig>, value }); outputs keep the wrapping.
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
function reveal(v) {
  if (Array.isArray(v)) return v.map(reveal);
  if (v && typeof v === "object") {
    if (v[SIG_KEY] === SECRET_SIG) return reveal(v.value);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
  }
  return v;
}

function finish(res, command, what) {
  const stdout = (res.stdout || "").replace(/\n$/, "");
  const stderr = (res.stderr || "").replace(/\n$/, "");
  if (res.status !== 0) {
    const tail = (stderr || stdout).split("\n").slice(-20).join("\n");
    throw new Error(`command exited with ${res.status === null ? res.signal : res.status}${what}: ${command}\n${tail}`);
  }
  return { stdout, stderr };
}

function runShell(command, inputs, extraEnv) {
  const interpreter = inputs.interpreter && inputs.interpreter.length > 0 ? inputs.interpreter : ["/bin/sh", "-c"];
  const env = { ...process.env, ...reveal(inputs.environment || {}), ...extraEnv };
  const res = child_process.spawnSync(interpreter[0], [...interpreter.slice(1), command], {
    cwd: inputs.dir || process.cwd(),
    env,
    input: reveal(inputs.stdin) || "",
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error) throw new Error(`could not run ${interpreter[0]}: ${res.error.message}`);
  return finish(res, command, "");
}

// ---- remote:Command over OpenSSH ----
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A host name or IP address, never starting with `-` (no ssh option injection). */
const HOST_RE = /^([A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9a-fA-F]*:[0-9a-fA-F:.]+)$/;
const USER_RE = /^[A-Za-z_][A-Za-z0-9._-]{0,31}$/;
/** Words that may appear in the ProxyCommand line (run by ssh through sh -c). */
const SAFE_WORD = /^[A-Za-z0-9._+/:@=%,-]+$/;
const HOST_KEY_RE = /^(ssh|ecdsa|sk)-[A-Za-z0-9@.-]+ [A-Za-z0-9+/]+={0,3}( [^\n\r]*)?\s*$/;

/** One shell word holding `s` exactly (POSIX single quotes; a ' is written '\''). */
function shQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

/** The remote command line: `env K='v' ... sh -c '<command>'`. */
function remoteLine(command, env) {
  for (const k of Object.keys(env)) if (!ENV_NAME.test(k)) throw new Error(`environment name ${JSON.stringify(k)} is not a shell variable name`);
  const assigns = Object.entries(env).map(([k, v]) => `${k}=${shQuote(v)}`);
  return ["env", ...assigns, "sh", "-c", shQuote(command)].join(" ");
}

const known = (v) => v !== undefined && v !== UNKNOWN;

/** Check failures of a connection (or its proxy), each naming the field and its fix. */
function connectionFailures(c, at) {
  const f = [];
  const bad = (k, reason) => f.push({ property: `${at}.${k}`, reason });
  if (c === UNKNOWN) return f;
  if (!c || typeof c !== "object") return [{ property: at, reason: "give connection: { host, user, privateKey or agentSocketPath }" }];
  if (c.host === undefined) bad("host", "give the address of the host (a name or an IP address)");
  else if (known(c.host) && !(typeof c.host === "string" && HOST_RE.test(c.host))) bad("host", "use a host name or an IP address (letters, digits, . - :; not starting with -)");
  if (known(c.port) && !(Number.isInteger(c.port) && c.port >= 1 && c.port <= 65535)) bad("port", "use a TCP port 1-65535");
  if (known(c.user) && !(typeof c.user === "string" && USER_RE.test(c.user))) bad("user", "use a login name such as root");
  for (const k of ["password", "privateKeyPassword"])
    if (c[k] !== undefined) bad(k, `${k} is not supported by umlab's command plugin (ssh runs with BatchMode: no prompt): use an unencrypted privateKey or an ssh agent (agentSocketPath)`);
  if (known(c.privateKey) && !(typeof c.privateKey === "string" && /PRIVATE KEY-----/.test(c.privateKey))) bad("privateKey", "give the key's contents (-----BEGIN ... PRIVATE KEY-----), e.g. fs.readFileSync(keyFile, \"utf8\")");
  if (known(c.hostKey) && !(typeof c.hostKey === "string" && HOST_KEY_RE.test(c.hostKey))) bad("hostKey", "give the host's public key on one line, as in its /etc/ssh/ssh_host_ed25519_key.pub (`ssh-ed25519 AAAA...`)");
  if (known(c.agentSocketPath) && !(typeof c.agentSocketPath === "string" && c.agentSocketPath.startsWith("/") && SAFE_WORD.test(c.agentSocketPath))) bad("agentSocketPath", "use an absolute path of letters, digits and . _ + - / only");
  if (known(c.dialErrorLimit) && !(Number.isInteger(c.dialErrorLimit) && (c.dialErrorLimit === -1 || c.dialErrorLimit >= 1))) bad("dialErrorLimit", "use -1 (taken as 100) or a number of attempts >= 1");
  if (known(c.perDialTimeout) && !(Number.isInteger(c.perDialTimeout) && c.perDialTimeout >= 0)) bad("perDialTimeout", "use seconds >= 0 (0: no limit)");
  if (c.proxy !== undefined) {
    if (at.endsWith(".proxy")) bad("proxy", "a proxy of a proxy is not supported");
    else f.push(...connectionFailures(c.proxy, `${at}.proxy`));
  }
  return f;
}

/** A temp dir whose path is safe inside the ProxyCommand line. */
function makeTmp() {
  const base = SAFE_WORD.test(os.tmpdir()) ? os.tmpdir() : "/tmp";
  return fs.mkdtempSync(path.join(base, "umlab-command-")); // mode 0700
}

/** ssh's options for one hop (files it needs written into `tmp`, named by `tag`). */
function hopOptions(c, tmp, tag) {
  const o = (kv) => ["-o", kv];
  const out = ["-F", "none", ...o("BatchMode=yes"), ...o("LogLevel=ERROR"), ...o("ServerAliveInterval=15"), ...o("ServerAliveCountMax=4")];
  const timeout = c.perDialTimeout === undefined ? 15 : c.perDialTimeout;
  if (timeout > 0) out.push(...o(`ConnectTimeout=${timeout}`));
  const limit = c.dialErrorLimit === undefined ? 10 : c.dialErrorLimit;
  out.push(...o(`ConnectionAttempts=${limit === -1 ? 100 : Math.min(limit, 100)}`));
  if (c.hostKey) {
    const kh = path.join(tmp, `${tag}_known_hosts`);
    fs.writeFileSync(kh, `* ${c.hostKey.trim()}\n`, { mode: 0o600 });
    out.push(...o("StrictHostKeyChecking=yes"), ...o(`UserKnownHostsFile=${kh}`), ...o("GlobalKnownHostsFile=/dev/null"));
  } else {
    out.push(...o("StrictHostKeyChecking=accept-new"));
    const kh = process.env.UMLAB_COMMAND_KNOWN_HOSTS;
    if (kh && SAFE_WORD.test(kh)) out.push(...o(`UserKnownHostsFile=${kh}`));
  }
  if (c.privateKey) {
    const key = path.join(tmp, `${tag}_key`);
    fs.writeFileSync(key, c.privateKey.endsWith("\n") ? c.privateKey : `${c.privateKey}\n`, { mode: 0o600 });
    out.push("-i", key, ...o("IdentitiesOnly=yes"));
  }
  if (c.agentSocketPath) out.push(...o(`IdentityAgent=${c.agentSocketPath}`));
  out.push("-p", String(c.port || 22), "-l", c.user || "root");
  return out;
}

/** The whole ssh argv: fixed words, the host checked, the line last. */
function sshArgv(c, tmp, line) {
  const proxy = c.proxy
    ? ["-o", `ProxyCommand=${["ssh", ...hopOptions(c.proxy, tmp, "proxy"), "-W", "%h:%p", "--", c.proxy.host].join(" ")}`]
    : [];
  return ["-T", ...hopOptions(c, tmp, "target"), ...proxy, "--", c.host, line];
}

function where(c) {
  const hop = (h) => `${h.user || "root"}@${h.host} port ${h.port || 22}`;
  return `${hop(c)}${c.proxy ? ` via ${hop(c.proxy)}` : ""}`;
}

function runRemote(command, inputs, extraEnv) {
  const c = reveal(inputs.connection);
  const failures = connectionFailures(c, "connection");
  if (failures.length) throw new Error(failures.map((x) => `${x.property}: ${x.reason}`).join("; "));
  const line = remoteLine(command, { ...reveal(inputs.environment || {}), ...extraEnv });
  const tmp = makeTmp();
  try {
    const res = child_process.spawnSync("ssh", sshArgv(c, tmp, line), {
      input: reveal(inputs.stdin) || "",
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (res.error) throw new Error(`could not run ssh (install openssh-client): ${res.error.message}`);
    if (res.status === 255) {
      const tail = (res.stderr || "").trim().split("\n").slice(-5).join("\n");
      throw new Error(`ssh to ${where(c)} failed (exit 255: it could not connect or log in, or the command exited 255): ${tail}`);
    }
    return finish(res, command, ` on ${where(c)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const REPLACE_KEYS = ["triggers", "interpreter", "dir"];
const UPDATE_KEYS = ["create", "update", "delete", "environment", "stdin", "addPreviousOutputInEnv", "logging", "connection"];
const same = (a, b) => JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);
const typeOf = (urn) => String(urn).split("::")[2];
const isRemote = (urn) => typeOf(urn) === "command:remote:Command";
const run = (urn, command, inputs, extraEnv) => (isRemote(urn) ? runRemote : runShell)(command, inputs, extraEnv);

function prevEnv(inputs, olds) {
  if (inputs.addPreviousOutputInEnv === false || !olds) return {};
  return { PULUMI_COMMAND_STDOUT: olds.stdout || "", PULUMI_COMMAND_STDERR: olds.stderr || "" };
}

const provider = {
  version: VERSION,
  async check(urn, olds, news) {
    const failures = [];
    const type = typeOf(urn);
    if (type !== "command:local:Command" && type !== "command:remote:Command")
      failures.push({ property: "", reason: `${type} is not supported by umlab's command plugin (it runs local.Command and remote.Command)` });
    for (const k of ["assetPaths", "archivePaths"]) {
      if (news[k] !== undefined) failures.push({ property: k, reason: `${k} is not supported by umlab's command plugin` });
    }
    for (const k of ["create", "update", "delete", "dir", "stdin"]) {
      const v = reveal(news[k]);
      if (v !== undefined && typeof v !== "string") failures.push({ property: k, reason: `${k} must be a string` });
    }
    if (type === "command:remote:Command") {
      failures.push(...connectionFailures(reveal(news.connection), "connection"));
      const env = reveal(news.environment) || {};
      for (const [k, v] of Object.entries(env)) {
        if (!ENV_NAME.test(k)) failures.push({ property: `environment.${k}`, reason: "use a shell variable name: letters, digits, _ (not starting with a digit)" });
        if (typeof v === "string" && v.includes("\0")) failures.push({ property: `environment.${k}`, reason: "a value cannot hold a NUL byte" });
      }
    }
    return { inputs: news, failures };
  },
  async diff(id, urn, olds, news) {
    const replaces = REPLACE_KEYS.filter((k) => !same(olds[k], news[k]));
    const changed = UPDATE_KEYS.filter((k) => !same(olds[k], news[k]));
    return { changes: replaces.length + changed.length > 0, replaces };
  },
  async create(urn, inputs) {
    const cmd = reveal(inputs.create);
    const out = cmd ? run(urn, cmd, inputs, {}) : { stdout: "", stderr: "" };
    return { id: `cmd-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`, outs: { ...inputs, ...out } };
  },
  async update(id, urn, olds, news) {
    const cmd = reveal(news.update) || reveal(news.create);
    const out = cmd ? run(urn, cmd, news, prevEnv(news, olds)) : { stdout: olds.stdout || "", stderr: olds.stderr || "" };
    return { outs: { ...news, ...out } };
  },
  async delete(id, urn, props) {
    const cmd = reveal(props.delete);
    if (cmd) run(urn, cmd, props, prevEnv(props, props));
  },
  async read(id, urn, props) {
    return { id, props };
  },
  async invoke(token, inputs) {
    if (token !== "command:local:run") throw new Error(`unknown function ${token} (umlab's command plugin has local:run only)`);
    return { outputs: { ...inputs, ...runShell(inputs.command, inputs, {}) } };
  },
};

if (require.main === module) loadProviderApi().main(provider, process.argv.slice(2));
else module.exports = { shQuote, remoteLine, connectionFailures, sshArgv, hopOptions, makeTmp, provider };
