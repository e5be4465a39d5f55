// The header of a UML COW file (uml_mkcow, format v3, big-endian): magic "OOOM", version 3, the
// backing file's mtime (u32 seconds) and size (u64), then sector size, alignment, format, and
// at byte 32 the backing file's path (NUL-terminated, 4096 bytes). UML refuses to open a COW
// file whose recorded mtime or size differ from its backing file's. A disk restored from a
// snapshot over a backing of the same content (checked by sha256) but another path or mtime (a
// rebuilt or imported image) is re-bound to it here. Pure: bytes in, bytes out.

export const COW_MAGIC = 0x4f4f4f4d;
export const COW_HEADER_BYTES = 32 + 4096;

export interface CowHeader {
  mtime: number;
  size: bigint;
  backing: string;
}

/** The header fields, or an error saying why this is not a v3 COW file. */
export function parseCowHeader(b: Buffer): CowHeader {
  if (b.length < 32 || b.readUInt32BE(0) !== COW_MAGIC) throw new Error("not a UML COW file (no OOOM magic)");
  const version = b.readUInt32BE(4);
  if (version !== 3)
    throw new Error(`a UML COW file of format ${version}: only format 3 (uml_mkcow) is supported`);
  const end = b.indexOf(0, 32);
  return {
    mtime: b.readUInt32BE(8),
    size: b.readBigUInt64BE(12),
    backing: b.toString("utf8", 32, end < 0 ? Math.min(b.length, COW_HEADER_BYTES) : end),
  };
}

/** A copy of `b` (the header bytes) bound to `backing` of `size` bytes modified at `mtime`. */
export function rebindCowHeader(b: Buffer, backing: string, mtime: number, size: number): Buffer {
  const h = parseCowHeader(b);
  if (h.size !== BigInt(size))
    throw new Error(`the COW file was made over a ${h.size}-byte backing file, this one has ${size} bytes`);
  const path = Buffer.from(backing, "utf8");
  if (path.length >= 4096) throw new Error(`backing path too long for a COW header: ${backing}`);
  if (b.length < COW_HEADER_BYTES) throw new Error("a COW header is 4128 bytes: give all of them");
  const out = Buffer.from(b);
  out.writeUInt32BE(mtime >>> 0, 8);
  out.fill(0, 32, COW_HEADER_BYTES);
  path.copy(out, 32);
  return out;
}
