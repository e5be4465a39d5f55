// How a command becomes the script an exec request runs (pure): argv words are quoted for
// POSIX sh, so user data is never shell syntax (tests/unit/fuzz/quoting.test.ts runs real sh).

/** POSIX sh quoting of one word (left bare when it has no special characters). */
export function shQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The script a request runs: a string is a sh script as is; an argv array is quoted word by
 * word (no shell interpretation of user data) and exec'd.
 */
export function commandScript(command: string | string[]): string {
  if (typeof command === "string") return command.endsWith("\n") ? command : command + "\n";
  if (command.length === 0) throw new Error("exec: the command is empty");
  // A shell word cannot hold a NUL byte (sh would cut or drop it): refuse, do not mangle.
  const nul = command.findIndex((w) => w.includes("\0"));
  if (nul >= 0) throw new Error(`exec: argv word ${nul} contains a NUL byte, which no command can receive`);
  return `exec ${command.map(shQuote).join(" ")}\n`;
}

/** A short rendering of a command for messages. */
export function commandLabel(command: string | string[]): string {
  const s = typeof command === "string" ? command.trim() : command.map(shQuote).join(" ");
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
