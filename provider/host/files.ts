// Reading (and appending to) files a guest can write. A guest's folder is shared with it over
// hostfs, so root in the guest can replace any file in it by a FIFO (a plain read would block
// the provider for ever), by a symlink (the host would read or append a host file), or by a
// huge file. Every such file is opened here with O_NOFOLLOW | O_NONBLOCK, must be a regular
// file (fstat of the opened descriptor, not of the path), is read up to a cap, and, given the
// folder it must lie in, is checked through /proc/self/fd to really lie there (a symlinked
// parent directory planted by the guest is refused too).
import * as fs from "fs";
import * as path from "path";

/** Default cap of one read: 16 MiB. */
export const MAX_READ_BYTES = 16 * 1024 * 1024;

export interface SafeReadOptions {
  /** Read at most this many bytes (default MAX_READ_BYTES); longer files set `truncated`. */
  maxBytes?: number;
  /** Read the last maxBytes of a longer file instead of the first (log tails). */
  tail?: boolean;
  /**
   * The folder the file must resolve into (no symlinked directory on the way). It must be one
   * the guest cannot replace itself: its realpath is the reference (e.g. the guest's folder,
   * the root of its hostfs, never a request folder inside it).
   */
  within?: string;
}

export interface SafeRead {
  text: string;
  /** The file was longer than maxBytes: only part of it is in `text`. */
  truncated: boolean;
  /** Its size in bytes when it was read. */
  size: number;
}

/** Why a guest-written file was refused (not a regular file, a symlink, outside its folder). */
export class UnsafeFileError extends Error {
  constructor(
    public readonly file: string,
    why: string,
  ) {
    super(`refusing to read ${file}: ${why}`);
    this.name = "UnsafeFileError";
  }
}

const OPEN_READ = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
const OPEN_APPEND =
  fs.constants.O_WRONLY |
  fs.constants.O_APPEND |
  fs.constants.O_CREAT |
  fs.constants.O_NOFOLLOW |
  fs.constants.O_NONBLOCK;

function refusal(file: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  // O_NOFOLLOW on a symlink: ELOOP.
  if (code === "ELOOP") return new UnsafeFileError(file, "it is a symbolic link");
  return e as Error;
}

function checkOpened(file: string, fd: number, st: fs.Stats, within: string | undefined): void {
  if (!st.isFile()) {
    const kind = st.isFIFO() ? "a FIFO" : st.isDirectory() ? "a directory" : "not a regular file";
    throw new UnsafeFileError(file, `it is ${kind}`);
  }
  if (within !== undefined) {
    const root = fs.realpathSync(within);
    const expected = path.join(root, path.relative(within, file));
    let actual: string;
    try {
      actual = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return; // no /proc: the O_NOFOLLOW and regular-file checks still hold
    }
    if (actual !== expected || !actual.startsWith(root + path.sep))
      throw new UnsafeFileError(file, `it resolves to ${actual}, outside ${root}`);
  }
}

/**
 * Read a file a guest may have written, asynchronously and bounded. Returns undefined when it
 * does not exist; throws UnsafeFileError for a symlink, a FIFO, a device, a directory or a
 * path that leaves `within`.
 */
export async function readGuestFile(file: string, opts: SafeReadOptions = {}): Promise<SafeRead | undefined> {
  const max = opts.maxBytes ?? MAX_READ_BYTES;
  let h: fs.promises.FileHandle;
  try {
    h = await fs.promises.open(file, OPEN_READ);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw refusal(file, e);
  }
  try {
    const st = await h.stat();
    checkOpened(file, h.fd, st, opts.within);
    const want = Math.min(st.size, max);
    const buf = Buffer.alloc(want);
    const start = opts.tail && st.size > max ? st.size - max : 0;
    let got = 0;
    while (got < want) {
      const { bytesRead } = await h.read(buf, got, want - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { text: buf.subarray(0, got).toString("utf8"), truncated: st.size > max, size: st.size };
  } finally {
    await h.close();
  }
}

/**
 * The same checks, synchronously, for small files read in a poll or a message (pid files,
 * `rc`, log tails): the open never blocks (O_NONBLOCK) and only a regular file is read, so a
 * planted FIFO cannot hang the caller.
 */
export function readGuestFileSync(file: string, opts: SafeReadOptions = {}): SafeRead | undefined {
  const max = opts.maxBytes ?? MAX_READ_BYTES;
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_READ);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw refusal(file, e);
  }
  try {
    const st = fs.fstatSync(fd);
    checkOpened(file, fd, st, opts.within);
    const want = Math.min(st.size, max);
    const buf = Buffer.alloc(want);
    const start = opts.tail && st.size > max ? st.size - max : 0;
    let got = 0;
    while (got < want) {
      const n = fs.readSync(fd, buf, got, want - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return { text: buf.subarray(0, got).toString("utf8"), truncated: st.size > max, size: st.size };
  } finally {
    fs.closeSync(fd);
  }
}

/** The text of a guest-written file, or "" when it is missing or refused. */
export function readGuestTextSync(file: string, maxBytes?: number, within?: string): string {
  try {
    return readGuestFileSync(file, { maxBytes, within })?.text ?? "";
  } catch {
    return "";
  }
}

/** Append to a log in a guest's folder without following a symlink the guest planted there. */
export function appendGuestFile(file: string, text: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_APPEND, 0o600);
  } catch (e) {
    throw refusal(file, e);
  }
  try {
    checkOpened(file, fd, fs.fstatSync(fd), undefined);
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}

/** What a FIFO holds (Linux's default pipe size): the most that can wait in one. */
export const FIFO_BYTES = 65536;

/**
 * Read and drop what waits in a non-blocking descriptor (a FIFO), at most `cap` bytes: a
 * writer still writing refills it as it is read, and what it writes after the cap must be kept.
 * Stops at EOF or EAGAIN; returns the bytes dropped.
 */
export function dropWaiting(fd: number, cap = FIFO_BYTES): number {
  const buf = Buffer.alloc(Math.min(cap, 65536));
  let n = 0;
  try {
    while (n < cap) {
      const got = fs.readSync(fd, buf, 0, Math.min(buf.length, cap - n), null);
      if (got <= 0) break;
      n += got;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
  }
  return n;
}
