// Guest-written files read by the host (provider/host/files.ts): a FIFO must not hang the
// reader, a symlink (to a file or through a directory) must not make the host read or append a
// host file, and a huge file is read only up to the cap.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import * as files from "../../../provider/host/files";
import { fileTail, readPid } from "../../../provider/host/process";

let dir: string;
let secret: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "umlab-files-"));
  secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "umlab-host-")), "secret");
  fs.writeFileSync(secret, "HOST SECRET\n");
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(path.dirname(secret), { recursive: true, force: true });
});

describe("readGuestFile", () => {
  test("reads a regular file; a missing one is undefined", async () => {
    fs.writeFileSync(path.join(dir, "out"), "hello\n");
    expect(await files.readGuestFile(path.join(dir, "out"), { within: dir })).toEqual({
      text: "hello\n",
      truncated: false,
      size: 6,
    });
    expect(await files.readGuestFile(path.join(dir, "nothing"))).toBeUndefined();
  });

  test("a FIFO is refused at once, async and sync (no writer would ever come)", async () => {
    const fifo = path.join(dir, "out");
    execFileSync("mkfifo", [fifo]);
    await expect(files.readGuestFile(fifo)).rejects.toThrow(/refusing to read .*out: it is a FIFO/);
    expect(() => files.readGuestFileSync(fifo)).toThrow(/it is a FIFO/);
    expect(files.readGuestTextSync(fifo)).toBe("");
    expect(readPid(fifo)).toBeUndefined();
    expect(fileTail(fifo)).toBe("(none)");
  });

  test("a symlink to a host file is refused and the host file is not read", async () => {
    const link = path.join(dir, "out");
    fs.symlinkSync(secret, link);
    await expect(files.readGuestFile(link)).rejects.toThrow(/it is a symbolic link/);
    expect(() => files.readGuestFileSync(link)).toThrow(/it is a symbolic link/);
    expect(fileTail(link)).not.toContain("HOST SECRET");
    expect(readPid(link)).toBeUndefined();
  });

  test("a symlinked parent directory is refused when the folder is given", async () => {
    fs.symlinkSync(path.dirname(secret), path.join(dir, "req"));
    const f = path.join(dir, "req", "secret");
    await expect(files.readGuestFile(f, { within: dir })).rejects.toThrow(/resolves to .*secret, outside/);
    expect(() => files.readGuestFileSync(f, { within: dir })).toThrow(/outside/);
  });

  test("a directory or a device is refused", async () => {
    fs.mkdirSync(path.join(dir, "out"));
    await expect(files.readGuestFile(path.join(dir, "out"))).rejects.toThrow(/it is a directory/);
    await expect(files.readGuestFile("/dev/zero")).rejects.toThrow(/not a regular file/);
  });

  test("a huge (sparse) file is read up to the cap and marked truncated; tails read the end", async () => {
    const f = path.join(dir, "out");
    const fd = fs.openSync(f, "w");
    fs.writeSync(fd, "HEAD");
    fs.ftruncateSync(fd, 4 * 1024 * 1024 * 1024); // 4 GiB, no disk used
    fs.writeSync(fd, "\nLAST LINE\n", 4 * 1024 * 1024 * 1024);
    fs.closeSync(fd);
    const r = await files.readGuestFile(f, { maxBytes: 1024 });
    expect(r?.truncated).toBe(true);
    expect(r?.text.length).toBe(1024);
    expect(r?.text.startsWith("HEAD")).toBe(true);
    expect(r?.size).toBe(4 * 1024 * 1024 * 1024 + 11);
    expect(fileTail(f, 1)).toBe("LAST LINE");
    const whole = await files.readGuestFile(f);
    expect(whole?.text.length).toBe(files.MAX_READ_BYTES);
  });
});

describe("appendGuestFile", () => {
  test("appends to a regular file, creating it", () => {
    const f = path.join(dir, "changes.log");
    files.appendGuestFile(f, "a\n");
    files.appendGuestFile(f, "b\n");
    expect(fs.readFileSync(f, "utf8")).toBe("a\nb\n");
  });

  test("never appends through a symlink to a host file", () => {
    const link = path.join(dir, "changes.log");
    fs.symlinkSync(secret, link);
    expect(() => files.appendGuestFile(link, "PWNED\n")).toThrow(/symbolic link/);
    expect(fs.readFileSync(secret, "utf8")).toBe("HOST SECRET\n");
  });

  test("a FIFO with no reader is refused without blocking", () => {
    const fifo = path.join(dir, "changes.log");
    execFileSync("mkfifo", [fifo]);
    expect(() => files.appendGuestFile(fifo, "x")).toThrow();
  });
});
