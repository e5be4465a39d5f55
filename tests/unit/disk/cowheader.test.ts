// The COW header parser: the bytes uml_mkcow writes, every layout the kernel reads, and
// garbage, which must give a CowHeaderError and nothing else (no RangeError, no hang).
import fc from "fast-check";
import {
  COW_MAGIC,
  CowHeaderError,
  encodeCowHeaderV3,
  parseCowHeader,
} from "../../../provider/disk/cowheader";

/** The first 0x3c bytes uml_mkcow wrote for a 10 MiB /work/scratch/merge/back.img (xxd). */
const MKCOW = Buffer.from(
  "4f4f4f4d000000036b09387d0000000000a00000000002000000100000000000" +
    "2f776f726b2f736372617463682f6d657267652f6261636b2e696d6700000000",
  "hex",
);

function v12(version: 1 | 2, backing: string, le: boolean): Buffer {
  const plen = version === 1 ? 256 : 4096;
  const buf = Buffer.alloc(8 + plen + 16);
  const w32 = (v: number, o: number) => (le ? buf.writeUInt32LE(v, o) : buf.writeUInt32BE(v, o));
  w32(COW_MAGIC, 0);
  w32(version, 4);
  buf.write(backing, 8);
  w32(1234, 8 + plen);
  if (le) buf.writeBigUInt64LE(4096n, 12 + plen);
  else buf.writeBigUInt64BE(4096n, 12 + plen);
  w32(512, 20 + plen);
  return buf;
}

describe("COW header", () => {
  test("the bytes uml_mkcow writes (version 3, big-endian)", () => {
    expect(parseCowHeader(MKCOW)).toEqual({
      version: 3,
      backing: "/work/scratch/merge/back.img",
      mtime: 0x6b09387d,
      size: 10 * 1024 * 1024,
      sectorSize: 512,
    });
  });

  test("versions 1 and 2 in either byte order, and the 64-bit v3 layout", () => {
    for (const le of [true, false]) {
      expect(parseCowHeader(v12(1, "/a/b.img", le))).toMatchObject({
        version: 1,
        backing: "/a/b.img",
        size: 4096,
      });
      expect(parseCowHeader(v12(2, "/c.img", le))).toMatchObject({
        version: 2,
        backing: "/c.img",
        mtime: 1234,
      });
    }
    const broken = Buffer.alloc(36 + 4096);
    broken.writeUInt32BE(COW_MAGIC, 0);
    broken.writeUInt32BE(3, 4);
    broken.writeBigInt64BE(99n, 8);
    broken.writeBigUInt64BE(8192n, 16);
    broken.writeUInt32BE(512, 24);
    broken.write("/old/64bit.img", 36);
    expect(parseCowHeader(broken)).toEqual({
      version: 3,
      backing: "/old/64bit.img",
      mtime: 99,
      size: 8192,
      sectorSize: 512,
    });
  });

  test("what is not a COW header is refused, saying why", () => {
    const bad: [Buffer, RegExp][] = [
      [Buffer.alloc(0), /needs 8 bytes/],
      [Buffer.from("hsqs\0\0\0\0 an ext4 or squashfs image"), /no OOOM magic/],
      [Buffer.concat([MKCOW.subarray(0, 4), Buffer.from([0, 0, 0, 7]), MKCOW.subarray(8)]), /version 7/],
      [MKCOW.subarray(0, 40), /not terminated/], // cut inside the path
      [MKCOW.subarray(0, 20), /needs 36 bytes/],
      [v12(1, "/x", true).subarray(0, 100), /needs 280 bytes/],
    ];
    for (const [b, re] of bad) {
      expect(() => parseCowHeader(b)).toThrow(CowHeaderError);
      expect(() => parseCowHeader(b)).toThrow(re);
    }
  });

  test("property: any bytes give a header or a CowHeaderError, never another error", () => {
    const check = (b: Uint8Array) => {
      try {
        const h = parseCowHeader(Buffer.from(b));
        expect(h.backing.length).toBeGreaterThan(0);
        expect(h.backing.includes("\0")).toBe(false);
        expect([1, 2, 3]).toContain(h.version);
      } catch (e) {
        if (!(e instanceof CowHeaderError)) throw e;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), check), { numRuns: 500 });
    // Garbage behind a valid magic and version reaches every layout's reader.
    const prefixed = fc
      .tuple(fc.constantFrom(1, 2, 3), fc.boolean(), fc.uint8Array({ maxLength: 4400 }))
      .map(([v, le, rest]) => {
        const head = Buffer.alloc(8);
        if (le) {
          head.writeUInt32LE(COW_MAGIC, 0);
          head.writeUInt32LE(v, 4);
        } else {
          head.writeUInt32BE(COW_MAGIC, 0);
          head.writeUInt32BE(v, 4);
        }
        return Buffer.concat([head, Buffer.from(rest)]);
      });
    fc.assert(fc.property(prefixed, check), { numRuns: 500 });
  });

  test("property: a version 3 header gives back what was written", () => {
    const pathArb = fc
      .array(fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/), { minLength: 1, maxLength: 20 })
      .map((parts) => "/" + parts.join("/"));
    fc.assert(
      fc.property(
        pathArb,
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (backing, mtime, size) => {
          expect(parseCowHeader(encodeCowHeaderV3({ backing, mtime, size }))).toEqual({
            version: 3,
            backing,
            mtime,
            size,
            sectorSize: 512,
          });
        },
      ),
    );
  });
});
