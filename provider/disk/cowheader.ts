// The header of a UML COW file (pure): which backing file a COW disk depends on. The layouts
// are the kernel's (arch/um/drivers/cow_user.c, read_cow_header): uml_mkcow and a booting UML
// write version 3 in network byte order; versions 1 and 2 are in the writer's byte order;
// "v3 broken" is the unpacked 64-bit layout some old binaries wrote (mtime 8 bytes wide),
// recognised as the kernel does: the four bytes where a v3 backing path starts are zero.

export const COW_MAGIC = 0x4f4f4f4d; // "OOOM" read big-endian
const PATH_LEN_V1 = 256;
const PATH_LEN_V3 = 4096;

/** Bytes to read from the start of a COW file to parse any header version. */
export const COW_HEADER_MAX = 36 + PATH_LEN_V3;

export interface CowHeader {
  version: 1 | 2 | 3;
  /** The backing file as the writer gave it (uml_mkcow and UML write an absolute path). */
  backing: string;
  /** The backing file's mtime the writer recorded (seconds). */
  mtime: number;
  /** Size of the disk in bytes. */
  size: number;
  sectorSize: number;
}

/** The bytes are not a COW header; `why` says what is wrong. */
export class CowHeaderError extends Error {}

function cString(buf: Buffer, start: number, max: number, what: string): string {
  if (buf.length < start + 1) throw new CowHeaderError(`${what}: the header is cut short`);
  const end = Math.min(buf.length, start + max);
  const nul = buf.indexOf(0, start);
  if (nul < 0 || nul >= end) throw new CowHeaderError(`${what}: the backing path is not terminated`);
  const s = buf.toString("utf8", start, nul);
  if (s === "") throw new CowHeaderError(`${what}: the backing path is empty`);
  return s;
}

function need(buf: Buffer, n: number, what: string): void {
  if (buf.length < n) throw new CowHeaderError(`${what}: header needs ${n} bytes, got ${buf.length}`);
}

/**
 * Parse the start of a COW file. Throws CowHeaderError (never anything else) for bytes that
 * are not a COW header: a plain image, a truncated file, garbage.
 */
export function parseCowHeader(buf: Buffer): CowHeader {
  need(buf, 8, "COW header");
  let be: boolean;
  if (buf.readUInt32BE(0) === COW_MAGIC) be = true;
  else if (buf.readUInt32LE(0) === COW_MAGIC) be = false;
  else throw new CowHeaderError("not a COW file (no OOOM magic)");
  const u32 = (o: number) => (be ? buf.readUInt32BE(o) : buf.readUInt32LE(o));
  const u64 = (o: number) => Number(be ? buf.readBigUInt64BE(o) : buf.readBigUInt64LE(o));
  const version = u32(4);
  if (version === 1) {
    const off = 8 + PATH_LEN_V1;
    need(buf, off + 16, "COW v1");
    const backing = cString(buf, 8, PATH_LEN_V1, "COW v1");
    return { version: 1, backing, mtime: u32(off), size: u64(off + 4), sectorSize: u32(off + 12) };
  }
  if (version === 2) {
    const off = 8 + PATH_LEN_V3;
    need(buf, off + 16, "COW v2");
    const backing = cString(buf, 8, PATH_LEN_V3, "COW v2");
    return { version: 2, backing, mtime: u32(off), size: u64(off + 4), sectorSize: u32(off + 12) };
  }
  if (version === 3) {
    // v3 is always big-endian (htonl); the magic's byte order tells nothing more here.
    need(buf, 36, "COW v3");
    const broken = buf.readUInt32BE(32) === 0;
    if (!broken) {
      const backing = cString(buf, 32, PATH_LEN_V3, "COW v3");
      return {
        version: 3,
        backing,
        mtime: buf.readUInt32BE(8),
        size: Number(buf.readBigUInt64BE(12)),
        sectorSize: buf.readUInt32BE(20),
      };
    }
    const backing = cString(buf, 36, PATH_LEN_V3, "COW v3 (64-bit layout)");
    return {
      version: 3,
      backing,
      mtime: Number(buf.readBigInt64BE(8)),
      size: Number(buf.readBigUInt64BE(16)),
      sectorSize: buf.readUInt32BE(24),
    };
  }
  throw new CowHeaderError(`COW header version ${version} is not 1, 2 or 3`);
}

/** A version 3 header as uml_mkcow writes it (for tests and tools): 32 bytes + the path. */
export function encodeCowHeaderV3(h: {
  backing: string;
  mtime: number;
  size: number;
  sectorSize?: number;
}): Buffer {
  const path = Buffer.from(h.backing, "utf8");
  if (path.length === 0 || path.length >= PATH_LEN_V3 || path.includes(0))
    throw new CowHeaderError("backing: 1..4095 bytes without NUL");
  const buf = Buffer.alloc(32 + PATH_LEN_V3);
  buf.writeUInt32BE(COW_MAGIC, 0);
  buf.writeUInt32BE(3, 4);
  buf.writeUInt32BE(h.mtime >>> 0, 8);
  buf.writeBigUInt64BE(BigInt(h.size), 12);
  buf.writeUInt32BE(h.sectorSize ?? 512, 20);
  buf.writeUInt32BE(4096, 24);
  buf.writeUInt32BE(0, 28);
  path.copy(buf, 32);
  return buf;
}

/** Bytes of a version 3 header as uml_mkcow writes it: 32 bytes of fields, then the path. */
export const COW_V3_BYTES = 32 + PATH_LEN_V3;

/**
 * A copy of the v3 header `b` re-bound to `backing` (`size` bytes, modified at `mtime`): UML
 * refuses a COW file whose header records another mtime or size for its backing file, so a
 * disk restored over a backing of the same content (checked by the caller's sha256) but another
 * path or mtime (a rebuilt or imported image) needs this. Only v3 (uml_mkcow, UML) headers.
 */
export function rebindCowHeader(b: Buffer, backing: string, mtime: number, size: number): Buffer {
  const h = parseCowHeader(b);
  if (h.version !== 3 || b.readUInt32BE(32) === 0)
    throw new CowHeaderError(`a COW file of format ${h.version} (not uml_mkcow's v3) cannot be re-bound`);
  if (h.size !== size)
    throw new CowHeaderError(
      `the COW file was made over a ${h.size}-byte backing file, this one has ${size} bytes`,
    );
  if (b.length < COW_V3_BYTES)
    throw new CowHeaderError(`a COW header is ${COW_V3_BYTES} bytes: give all of them`);
  const fresh = encodeCowHeaderV3({ backing, mtime, size, sectorSize: h.sectorSize });
  const out = Buffer.from(b);
  // Keep alignment and bitmap fields as they were; new mtime and path (the old path's tail zeroed).
  out.writeUInt32BE(mtime >>> 0, 8);
  fresh.copy(out, 32, 32, COW_V3_BYTES);
  return out;
}
