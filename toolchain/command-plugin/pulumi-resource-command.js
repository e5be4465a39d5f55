#!/usr/bin/env node
// The `command` resource plugin for @pulumi/command's local.Command, for machines that
// cannot download Pulumi's prebuilt plugin or fetch its Go module (ours: the module proxy
// here does not serve github.com/pulumi/pulumi-command). Written on the Node.js provider
// API of @pulumi/pulumi, which is resolved from the program's node_modules.
//
// Supported: local:Command (create/update/delete commands, dir, environment, interpreter,
// stdin, triggers, addPreviousOutputInEnv; outputs stdout/stderr) and the local:run invoke.
// Not supported: assetPaths/archivePaths (reported as a check failure), remote:*.
"use strict";
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

function runShell(command, inputs, extraEnv) {
  const interpreter = inputs.interpreter && inputs.interpreter.length > 0 ? inputs.interpreter : ["/bin/sh", "-c"];
  const env = { ...process.env, ...(inputs.environment || {}), ...extraEnv };
  const res = child_process.spawnSync(interpreter[0], [...interpreter.slice(1), command], {
    cwd: inputs.dir || process.cwd(),
    env,
    input: inputs.stdin || "",
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error) throw new Error(`could not run ${interpreter[0]}: ${res.error.message}`);
  const stdout = (res.stdout || "").replace(/\n$/, "");
  const stderr = (res.stderr || "").replace(/\n$/, "");
  if (res.status !== 0) {
    const tail = (stderr || stdout).split("\n").slice(-20).join("\n");
    throw new Error(`command exited with ${res.status === null ? res.signal : res.status}: ${command}\n${tail}`);
  }
  return { stdout, stderr };
}

const REPLACE_KEYS = ["triggers", "interpreter", "dir"];
const UPDATE_KEYS = ["create", "update", "delete", "environment", "stdin", "addPreviousOutputInEnv", "logging"];
const same = (a, b) => JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);

function prevEnv(inputs, olds) {
  if (inputs.addPreviousOutputInEnv === false || !olds) return {};
  return { PULUMI_COMMAND_STDOUT: olds.stdout || "", PULUMI_COMMAND_STDERR: olds.stderr || "" };
}

const provider = {
  version: VERSION,
  async check(urn, olds, news) {
    const failures = [];
    for (const k of ["assetPaths", "archivePaths"]) {
      if (news[k] !== undefined) failures.push({ property: k, reason: `${k} is not supported by umlab's command plugin` });
    }
    for (const k of ["create", "update", "delete", "dir", "stdin"]) {
      if (news[k] !== undefined && typeof news[k] !== "string") failures.push({ property: k, reason: `${k} must be a string` });
    }
    return { inputs: news, failures };
  },
  async diff(id, urn, olds, news) {
    const replaces = REPLACE_KEYS.filter((k) => !same(olds[k], news[k]));
    const changed = UPDATE_KEYS.filter((k) => !same(olds[k], news[k]));
    return { changes: replaces.length + changed.length > 0, replaces };
  },
  async create(urn, inputs) {
    const out = inputs.create ? runShell(inputs.create, inputs, {}) : { stdout: "", stderr: "" };
    return { id: `cmd-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`, outs: { ...inputs, ...out } };
  },
  async update(id, urn, olds, news) {
    const cmd = news.update || news.create;
    const out = cmd ? runShell(cmd, news, prevEnv(news, olds)) : { stdout: olds.stdout || "", stderr: olds.stderr || "" };
    return { outs: { ...news, ...out } };
  },
  async delete(id, urn, props) {
    if (props.delete) runShell(props.delete, props, prevEnv(props, props));
  },
  async read(id, urn, props) {
    return { id, props };
  },
  async invoke(token, inputs) {
    if (token !== "command:local:run") throw new Error(`unknown function ${token}`);
    return { outputs: { ...inputs, ...runShell(inputs.command, inputs, {}) } };
  },
};

loadProviderApi().main(provider, process.argv.slice(2));
