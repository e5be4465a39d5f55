// Where a lab's SharedDisk files live (pure): `<lab>/shared/<name>.img`. A disk there may be
// attached to several guests at once (alternating access: UML locks it while a guest has the
// block device open, provider/disk/shareddisk.ts); any other disk to one running guest only.

export function sharedDiskDir(labDir: string): string {
  return `${labDir}/shared`;
}

export function sharedDiskPath(labDir: string, name: string): string {
  return `${sharedDiskDir(labDir)}/${name}.img`;
}

/** Is `file` a SharedDisk of the lab in `labDir`? */
export function isSharedDisk(labDir: string, file: string): boolean {
  const dir = `${sharedDiskDir(labDir)}/`;
  return file.startsWith(dir) && !file.slice(dir.length).includes("/") && file.endsWith(".img");
}
