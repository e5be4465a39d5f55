// What an unknown input looks like to a dynamic provider during a preview (Pulumi's
// placeholder for a value another resource has not computed yet).
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
