// umlab summary [--title <text>] [<file> | -]: the JSON of `pulumi preview --json` (or
// `pulumi refresh --preview-only --json`) from a file or stdin, as a short markdown summary per
// resource (what changes and why) for a pull-request comment. Pure rendering in
// preview-summary.ts.
import * as fs from "fs";
import { UsageError } from "./args";
import { summaryMarkdown, SummaryInputError } from "./preview-summary";

export function parseSummaryArgs(args: string[]): { file: string; title?: string } {
  let file: string | undefined;
  let title: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^--title(?:=(.*))?$/.exec(a);
    if (m) {
      title = m[1] ?? args[++i];
      if (title === undefined) throw new UsageError("--title needs a value");
    } else if (a !== "-" && a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else if (file === undefined) file = a;
    else throw new UsageError(`unexpected argument "${a}"`);
  }
  return { file: file ?? "-", title };
}

export async function cmdSummary(args: string[]): Promise<number> {
  const a = parseSummaryArgs(args);
  let text: string;
  try {
    text = fs.readFileSync(a.file === "-" ? 0 : a.file, "utf8");
  } catch (e) {
    throw new UsageError(
      `summary: cannot read ${a.file === "-" ? "stdin" : a.file}: ${(e as Error).message}`,
    );
  }
  try {
    process.stdout.write(summaryMarkdown(text, { title: a.title }));
  } catch (e) {
    if (e instanceof SummaryInputError) throw new UsageError(`summary: ${e.message}`);
    throw e;
  }
  return 0;
}
