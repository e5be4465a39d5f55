// An image: a root filesystem backing file (provider/image/). Pure: the facts only the
// file system knows (does `dir` exist?) are checked by provider/image/host.ts.
import * as nodePath from "path";
import { z } from "zod";
import { replace, type ChangePolicy } from "../policy";
import { UNKNOWN } from "../unknown";
import type { CheckFailure } from "./fields";

export const PACKAGE_RE = /^[a-z0-9][a-z0-9+.-]*$/;
export const SUITE_RE = /^[a-z][a-z0-9-]*$/;
const MODULE_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** The Image argument names, in the order errors list them. */
export const IMAGE_ARG_KEYS = [
  "preset",
  "dir",
  "tarball",
  "fromCow",
  "suite",
  "packages",
  "mirror",
  "modules",
  "sizeMb",
  "cacheDir",
];

/** Output properties of an Image (they come back in `olds` and must not count as unknown args). */
export const IMAGE_OUTPUT_KEYS = ["path", "sizeBytes", "allocatedBytes", "sha256", "kernelVersion", "key"];

function imageArgsShape() {
  return {
    preset: z
      .enum(["busybox", "debian"], { error: 'must be "busybox" or "debian" (or give `dir` or `tarball`)' })
      .optional(),
    dir: z.string().optional(),
    tarball: z.string().optional(),
    fromCow: z
      .object(
        { path: z.string(), backing: z.string().optional() },
        { error: "must be a CowDisk or { path, backing? } naming a COW file" },
      )
      .strict()
      .optional(),
    suite: z.string().regex(SUITE_RE, "must be a Debian suite or codename such as bookworm").optional(),
    packages: z.array(z.string().regex(PACKAGE_RE, "must be a Debian package name such as frr")).optional(),
    mirror: z
      .string()
      .regex(/^https?:\/\/\S+$/, "must be an http(s) URL of a Debian archive")
      .optional(),
    modules: z
      .array(z.string().regex(MODULE_RE, "must be a kernel module name such as sch_netem"))
      .optional(),
    sizeMb: z.number().int().min(8, "must be at least 8").max(262144).optional(),
    cacheDir: z.string().optional(),
  };
}

// A function, not a module-level schema object: the dynamic provider is serialized by value,
// and Pulumi's closure serializer cannot capture zod's schema objects (it can capture the
// zod module itself, as require("zod")).
export function imageArgsSchema() {
  return z
    .object(imageArgsShape())
    .strict()
    .superRefine((a, ctx) => {
      const sources = (["preset", "dir", "tarball", "fromCow"] as const).filter((k) => a[k] !== undefined);
      if (sources.length > 1) {
        ctx.addIssue({
          code: "custom",
          path: [sources[1]],
          message: `give only one of preset, dir, tarball, fromCow (got ${sources.join(", ")})`,
        });
      }
      if (a.fromCow !== undefined) {
        for (const k of ["modules", "sizeMb"] as const)
          if (a[k] !== undefined)
            ctx.addIssue({
              code: "custom",
              path: [k],
              message: "does not apply to fromCow (the merged image is the COW disk's content)",
            });
        for (const k of ["path", "backing"] as const) {
          const v = a.fromCow[k];
          if (v !== undefined && !nodePath.isAbsolute(v))
            ctx.addIssue({
              code: "custom",
              path: ["fromCow", k],
              message: `must be an absolute path (got "${v}")`,
            });
        }
      }
      const debian = a.preset === "debian";
      for (const k of ["suite", "packages", "mirror"] as const) {
        if (a[k] !== undefined && !debian) {
          ctx.addIssue({ code: "custom", path: [k], message: `only applies to preset "debian"` });
        }
      }
      if (a.modules !== undefined && debian) {
        ctx.addIssue({
          code: "custom",
          path: ["modules"],
          message: `a Debian image carries every module already; remove it`,
        });
      }
      for (const k of ["dir", "tarball", "cacheDir"] as const) {
        const v = a[k];
        if (v !== undefined && !nodePath.isAbsolute(v)) {
          ctx.addIssue({ code: "custom", path: [k], message: `must be an absolute path (got "${v}")` });
        }
      }
    });
}
export type ImageArgsInput = z.infer<ReturnType<typeof imageArgsSchema>>;

/** What an Image's plan compares: the args, and the cache key it derives from them on the host. */
export function imagePlanSchema() {
  return z.object({ ...imageArgsShape(), key: z.string().optional() });
}
export type ImagePlanned = z.infer<ReturnType<typeof imagePlanSchema>>;

/**
 * An image is never rewritten in place (COW disks depend on its bytes): every change is a new
 * image. Declaration order is the order a diff lists them.
 */
export const imagePolicy: ChangePolicy<ImagePlanned> = {
  preset: replace("another root filesystem"),
  dir: replace("another source tree"),
  tarball: replace("another source archive"),
  fromCow: replace("another COW disk merged (the image is its content when first merged)"),
  suite: replace("another Debian release"),
  packages: replace("other packages installed"),
  mirror: replace("packages from another archive"),
  modules: replace("other kernel modules copied in"),
  sizeMb: replace("another filesystem size"),
  cacheDir: replace("the file lives in another cache"),
  key: replace("new bytes: dir/tarball content, init script, UML kernel or builder changed"),
};

export type ValidationFailure = CheckFailure;

/** Only the fields of the args (no outputs, no provider key), unknown values dropped. */
export function pickImageArgs(raw: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const k of IMAGE_ARG_KEYS) {
    const v = raw[k];
    if (v === undefined || v === null || v === UNKNOWN) continue;
    if (Array.isArray(v) && v.includes(UNKNOWN)) continue;
    if (v && typeof v === "object" && Object.values(v).includes(UNKNOWN)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * The failures of Image args, one per field, each reason starting with the field: unknown
 * fields, the schema's, then `more` (rules zod must not run, e.g. file-system facts). `more`
 * runs where the schema's own cross-field rules run: once every field has its type (zod
 * skips an object's refinements after a type or enum error).
 */
export function imageArgFailures(
  raw: Record<string, any>,
  more?: (args: Record<string, any>) => ValidationFailure[],
): ValidationFailure[] {
  const known = new Set([...IMAGE_ARG_KEYS, ...IMAGE_OUTPUT_KEYS]);
  const unknown = Object.keys(raw).filter((k) => !known.has(k) && !k.startsWith("__"));
  const failures = unknown.map((k) => ({
    property: k,
    reason: `${k}: unknown field (Image takes ${IMAGE_ARG_KEYS.join(", ")})`,
  }));
  const args = pickImageArgs(raw);
  const r = imageArgsSchema().safeParse(args);
  const issues = r.success ? [] : r.error.issues;
  const typed = !issues.some((i) => i.code === "invalid_type" || i.code === "invalid_value");
  return failures.concat(
    issues.map((i) => {
      const property = i.path.length ? String(i.path[0]) : "(args)";
      const at = i.path.length > 1 ? `[${i.path.slice(1).join(".")}]` : "";
      const message = i.code === "unrecognized_keys" ? `unknown field(s) ${i.keys.join(", ")}` : i.message;
      return {
        property: i.code === "unrecognized_keys" ? i.keys[0] : property,
        reason: `${property}${at}: ${message}`,
      };
    }),
    typed && more ? more(args) : [],
  );
}

export function formatFailures(resource: string, failures: ValidationFailure[]): string {
  return (
    `umlab Image "${resource}": invalid arguments:\n` + failures.map((f) => `  - ${f.reason}`).join("\n")
  );
}
