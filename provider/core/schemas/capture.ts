// A packet capture of a lab switch or tap (provider/net/capture.ts).
import { z } from "zod";
import { fields } from "./fields";
import { replace, type ChangePolicy } from "../policy";

export function captureSchema() {
  const { orUnknown, path, name, engine } = fields();
  return z.object({
    labDir: orUnknown(path),
    name,
    mode: z.enum(["plug", "tap"]),
    /** plug: the switch's engine, control directory and instance. */
    engine: orUnknown(engine).optional(),
    control: orUnknown(path).optional(),
    switchInstance: z.string().optional(),
    /** tap: the Tap's namespace, device and instance. */
    namespace: z.string().optional(),
    device: z.string().optional(),
    tapInstance: z.string().optional(),
    /** Where the pcap goes; default `<labDir>/cap/<name>.pcap` (removed with the lab). */
    file: orUnknown(path).optional(),
  });
}
export type CaptureInputs = z.output<ReturnType<typeof captureSchema>>;

/**
 * Every input decides the capture process: any change starts a new one (delete first: same
 * file). An unknown switch or tap output (a preview of their update) counts as unchanged, as
 * for a Tap: a replaced switch or tap shows as such itself.
 */
export const capturePolicy: ChangePolicy<CaptureInputs> = {
  labDir: replace("the capture's files live in the lab dir", "same"),
  name: replace("the capture's file names", "same"),
  mode: replace("another capture process (writer or tcpdump)", "same"),
  engine: replace("the writer plugs into one switch", "same"),
  control: replace("the writer plugs into one switch", "same"),
  switchInstance: replace("a restarted switch drops the writer's port", "same"),
  namespace: replace("tcpdump runs in the tap's namespace", "same"),
  device: replace("tcpdump listens on one device", "same"),
  tapInstance: replace("a re-made tap is a new device", "same"),
  file: replace("the pcap file the process writes", "same"),
};
