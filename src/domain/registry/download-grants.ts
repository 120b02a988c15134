import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { Repository } from './model.js';
import type { Repositories } from './repositories.js';

const SECRET_KEY = 'layer_download_secret';
/** How long a GetDownloadUrlForLayer grant stays valid, like a pre-signed S3 URL. */
export const DOWNLOAD_GRANT_LIFETIME_MS = 3600_000;
export const DOWNLOAD_GRANT_LIFETIME_SECONDS = DOWNLOAD_GRANT_LIFETIME_MS / 1000;

/**
 * Time-limited, self-validating grants to read one blob of one repository: what
 * GetDownloadUrlForLayer hands out when the blob store offers no direct URL of its own.
 */
export class DownloadGrants {
  private key: Buffer | undefined;

  constructor(
    private readonly meta: MetadataStore,
    private readonly repositories: Repositories,
  ) {}

  private async secret(): Promise<Buffer> {
    this.key ??= Buffer.from(await this.meta.getOrCreateSetting(SECRET_KEY, () => randomBytes(32).toString('hex')), 'hex');
    return this.key;
  }

  private async sign(payload: string): Promise<string> {
    return createHmac('sha256', await this.secret()).update(payload).digest('base64url');
  }

  async issue(repo: Repository, digest: string, now = Date.now()): Promise<string> {
    const payload = Buffer.from(JSON.stringify({ r: repo.id, d: digest, e: now + DOWNLOAD_GRANT_LIFETIME_MS })).toString('base64url');
    return `${payload}.${await this.sign(payload)}`;
  }

  /** The repository and blob a grant names, 'expired', or undefined when it is forged or stale. */
  async redeem(grant: string): Promise<{ repository: Repository; digest: string } | 'expired' | undefined> {
    const [payload, signature, extra] = grant.split('.');
    if (!payload || !signature || extra !== undefined) return undefined;
    const expected = Buffer.from(await this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    let v: { r?: unknown; d?: unknown; e?: unknown };
    try {
      v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof v;
    } catch {
      return undefined;
    }
    if (typeof v.r !== 'string' || typeof v.d !== 'string' || typeof v.e !== 'number') return undefined;
    if (v.e < Date.now()) return 'expired';
    const repository = await this.repositories.byId(v.r);
    return repository && { repository, digest: v.d };
  }
}
