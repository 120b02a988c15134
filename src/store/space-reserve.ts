import { open, rm, stat, statfs } from 'node:fs/promises';

/**
 * Space set aside on the data dir's disk for the metadata database. When the disk fills, the
 * database could not even record a deletion, and deleting is how an operator gets space back; so
 * the first write that finds the disk full gives this space up and is retried. Until the space is
 * set aside again (as soon as the disk has room for it twice over), pushes are refused.
 */
export class SpaceReserve {
  private isHeld = false;
  private restoring: Promise<void> | undefined;
  private lastAttempt = 0;

  constructor(
    private readonly file: string,
    readonly bytes: number = 8 * 1024 * 1024,
  ) {}

  get held(): boolean {
    return this.isHeld;
  }

  /** Sets the space aside if the file is missing or short and the disk has room for it twice over. */
  async ensure(): Promise<void> {
    const existing = await stat(this.file).catch(() => undefined);
    if (existing?.size === this.bytes) {
      this.isHeld = true;
      return;
    }
    const fs = await statfs(this.file.slice(0, this.file.lastIndexOf('/')) || '/');
    if (fs.bavail * fs.bsize < 2 * this.bytes) return;
    const fh = await open(this.file, 'w', 0o600);
    try {
      const block = Buffer.alloc(1024 * 1024);
      for (let at = 0; at < this.bytes; at += block.length) await fh.write(block, 0, Math.min(block.length, this.bytes - at), at);
      await fh.sync();
      this.isHeld = true;
    } catch (err) {
      await rm(this.file, { force: true });
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      await fh.close();
    }
  }

  /** Gives the space up; true if there was any to give. */
  async release(): Promise<boolean> {
    const had = this.isHeld || (await stat(this.file).catch(() => undefined)) !== undefined;
    this.isHeld = false;
    await rm(this.file, { force: true });
    return had;
  }

  /** After a release, tries (at most every few seconds, in the background) to set the space aside again. */
  restoreSoon(): void {
    if (this.isHeld || this.restoring || Date.now() - this.lastAttempt < 2000) return;
    this.lastAttempt = Date.now();
    this.restoring = this.ensure()
      .catch(() => undefined)
      .finally(() => (this.restoring = undefined));
  }
}
