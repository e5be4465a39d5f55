// The serial cable's byte log (socat -x: a header line `> <date> <time> length=N ...`, `>` one
// way and `<` the other, then the bytes in hex) read back as text. Pure.

export interface CableChunk {
  direction: ">" | "<";
  time: string;
  text: string;
}

/** The last `n` chunks of a socat -x dump, bytes shown as text (unprintable ones as '.'). */
export function decodeCableLog(dump: string, n = 2): CableChunk[] {
  const chunks: CableChunk[] = [];
  let cur: CableChunk | undefined;
  for (const line of dump.split("\n")) {
    const h = /^([<>]) \S+ (\S+)\s+length=/.exec(line);
    if (h) {
      cur = { direction: h[1] as ">" | "<", time: h[2], text: "" };
      chunks.push(cur);
    } else if (cur && /^\s*[0-9a-f]{2}( [0-9a-f]{2})*\s*$/.test(line)) {
      cur.text += line
        .trim()
        .split(" ")
        .map((b) => {
          const c = parseInt(b, 16);
          return c === 10 || (c >= 32 && c < 127) ? String.fromCharCode(c) : ".";
        })
        .join("");
    }
  }
  return chunks.slice(-n);
}
