export * from "./lab";
export * from "./switch";
export * from "./cowdisk";
export * from "./guest";
export * from "./image";
