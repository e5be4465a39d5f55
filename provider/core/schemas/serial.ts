// A null-modem cable between serial lines of two guests (provider/net/serial.ts).
import { z } from "zod";
import { fields } from "./fields";
import { replace, inPlace, type ChangePolicy } from "../policy";

export function serialCableSchema() {
  const { orUnknown, path, name } = fields();
  return z.object({
    labDir: orUnknown(path),
    name,
    log: z.boolean().default(false),
    /** A fault: the relay is stopped (SIGSTOP) and carries no byte until resumed. */
    suspended: z.boolean().default(false),
  });
}
export type SerialCableInputs = z.output<ReturnType<typeof serialCableSchema>>;

/** Only the place of the cable makes new FIFOs (and so reboots its guests); `log` and `suspended` change in place. */
export const serialCablePolicy: ChangePolicy<SerialCableInputs> = {
  labDir: replace("the FIFOs live in the lab dir; guests hold them open"),
  name: replace("the FIFO names the guests were booted with"),
  log: inPlace("the relay restarts with or without its byte dump; the FIFOs stay"),
  suspended: inPlace("SIGSTOP/SIGCONT of the relay; the guests keep their FIFOs open"),
};
