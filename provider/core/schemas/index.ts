// Every component's input schema and change policy, one file each; validation helpers in
// fields.ts. Import from here.
export * from "./fields";
export * from "./lab";
export * from "./switch";
export * from "./cowdisk";
export * from "./guest";
export * from "./tap";
export * from "./capture";
export * from "./serial";
export * from "./impairment";

import { fields } from "./fields";
import { labRuntimeSchema } from "./lab";
import { switchSchema } from "./switch";
import { cowDiskSchema } from "./cowdisk";
import { nicSchema, guestSchema } from "./guest";

/** The shared field validators and the core component schemas, built on each call. */
export function schemas() {
  const g = guestSchema();
  return {
    ...fields(),
    labRuntime: labRuntimeSchema(),
    switch: switchSchema(),
    cowDisk: cowDiskSchema(),
    nic: nicSchema(),
    route: g.shape.routes.unwrap().element,
    disk: g.shape.disks.element,
    guest: g,
  };
}
export * from "./exec";
export * from "./image";
export * from "./snapshot";
export * from "./shareddisk";
