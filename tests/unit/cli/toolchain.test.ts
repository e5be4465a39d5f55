// The passphrase a lab folder's pulumi runs with: the user's, the dev one, or a refusal.
import {
  labEnv,
  passphraseEnv,
  DEV_PASSPHRASE,
  fileBackendUrl,
  fileBackendDir,
} from "../../../cli/toolchain";
import { UsageError } from "../../../cli/args";

describe("the lab folder's passphrase", () => {
  test("the user's passphrase is kept; without one the dev passphrase is used", () => {
    expect(passphraseEnv({ PULUMI_CONFIG_PASSPHRASE: "s3cret" })).toEqual({
      PULUMI_CONFIG_PASSPHRASE: "s3cret",
    });
    expect(passphraseEnv({})).toEqual({ PULUMI_CONFIG_PASSPHRASE: DEV_PASSPHRASE });
    expect(labEnv("/t/bin", "/lab", {}).PULUMI_CONFIG_PASSPHRASE).toBe("umlab-dev");
  });

  test("a passphrase file the user names is not overridden by the dev passphrase", () => {
    const env = labEnv("/t/bin", "/lab", { PULUMI_CONFIG_PASSPHRASE_FILE: "/home/u/pp" });
    expect(env.PULUMI_CONFIG_PASSPHRASE).toBeUndefined();
    expect(env.PULUMI_CONFIG_PASSPHRASE_FILE).toBe("/home/u/pp");
  });

  test("an explicitly empty passphrase is refused with what to do", () => {
    expect(() => passphraseEnv({ PULUMI_CONFIG_PASSPHRASE: "" })).toThrow(UsageError);
    expect(() => labEnv("/t/bin", "/lab", { PULUMI_CONFIG_PASSPHRASE: "" })).toThrow(
      /PULUMI_CONFIG_PASSPHRASE is set but empty.*Unset it \(to use the dev passphrase umlab-dev\) or set a real one/,
    );
  });
});

describe("file backend URLs", () => {
  test("umlab's turn fileblob's sidecars off; the directory reads back without the query", () => {
    expect(fileBackendUrl("/p/.pulumi-state")).toBe("file:///p/.pulumi-state?metadata=skip");
    expect(fileBackendDir(fileBackendUrl("/p/.pulumi-state"))).toBe("/p/.pulumi-state");
    expect(fileBackendDir("file:///s")).toBe("/s");
    expect(fileBackendDir("file://~/st?no_tmp_dir=true", "/home/u")).toBe("/home/u/st");
    expect(fileBackendDir("s3://bucket")).toBeUndefined();
  });
  test("a lab folder's default backend is umlab's URL; a given one is kept", () => {
    expect(labEnv("/b", "/lab", { PATH: "/x" }).PULUMI_BACKEND_URL).toBe(
      "file:///lab/.pulumi-state?metadata=skip",
    );
    expect(labEnv("/b", "/lab", { PATH: "/x", PULUMI_BACKEND_URL: "file:///o" }).PULUMI_BACKEND_URL).toBe(
      "file:///o",
    );
  });
});
