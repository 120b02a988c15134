import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { BlobEncryption } from '../encryption/blob-encryption.js';
import { Kms } from '../kms/kms.js';
import { MasterKey } from '../kms/master-key.js';
import type { BlobStore } from '../../store/blob/blob-store.js';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import { Accounts } from './accounts.js';
import { Blobs } from './blobs.js';
import { CreationTemplates } from './creation-templates.js';
import { DownloadGrants } from './download-grants.js';
import { Images } from './images.js';
import { checkReadiness, type Readiness, type SpaceReserveState } from './readiness.js';
import { PublicRegistries } from './public-registries.js';
import { PullRecorder } from './pull-recorder.js';
import { PullTimeExclusions } from './pull-time-exclusions.js';
import { SigningConfigurations } from './signing.js';
import { Repositories } from './repositories.js';
import { Uploads, type UploadHashes } from './uploads.js';
import { NO_SERVICE_ROLES, type ServiceRoles } from '../roles/service-roles.js';

export interface RegistryOptions {
  /** Whether pushes create missing repositories in every account (ECR: off). */
  createOnPush?: boolean;
  /** The largest blob accepted, in bytes (default: ECR's 52,000 MiB layer quota). */
  maxBlobBytes?: number;
  /** Space kept for the metadata database on a shared disk: while given up, pushes wait for it. */
  spaceReserve?: SpaceReserveState;
  /** Whether blob downloads are redirected to the blob store's pre-signed URLs, where it has them. */
  redirectBlobDownloads?: boolean;
  log?: Logger;
  /** Encryption at rest; by default one under a master key of this process's own (for tests). */
  encryption?: BlobEncryption;
  /** The region repositories are created in (default us-east-1). */
  region?: string;
  /** Where uploads' running hashes live between chunks (`saved` when nodes share the database). */
  uploadHashes?: UploadHashes;
  /** Answers whether ECR may act through a template's custom role; without it, no role does. */
  serviceRoles?: ServiceRoles;
  /** Wakes this process's job workers when the registry queues a job (a restore from the archive). */
  wakeWorkers?: () => void;
}

/**
 * The registry domain: every door (the /v2 API, the ECR API, the admin CLI, background work)
 * reads and changes repositories, images and blobs through these modules, and only through them.
 */
export class Registry {
  readonly accounts: Accounts;
  readonly templates: CreationTemplates;
  readonly pullExclusions: PullTimeExclusions;
  readonly signing: SigningConfigurations;
  readonly repositories: Repositories;
  readonly images: Images;
  readonly blobs: Blobs;
  readonly uploads: Uploads;
  readonly downloads: DownloadGrants;
  /** ECR Public registries and their public repositories. */
  readonly publicRegistries: PublicRegistries;
  private readonly pulls: PullRecorder;
  private readonly spaceReserve?: SpaceReserveState;

  constructor(
    private readonly meta: MetadataStore,
    private readonly blobStore: BlobStore,
    options: RegistryOptions = {},
  ) {
    this.spaceReserve = options.spaceReserve;
    const region = options.region ?? 'us-east-1';
    const encryption = options.encryption ?? ephemeralEncryption(meta, blobStore, region);
    this.accounts = new Accounts(meta, { createOnPush: options.createOnPush ?? false });
    const roles = options.serviceRoles ?? NO_SERVICE_ROLES;
    this.templates = new CreationTemplates(meta, roles);
    this.pullExclusions = new PullTimeExclusions(meta);
    this.signing = new SigningConfigurations(meta);
    this.repositories = new Repositories(meta, this.accounts, this.templates, encryption, region, roles);
    this.pulls = new PullRecorder(meta, options.log);
    this.images = new Images(meta, this.repositories, this.pulls, encryption, options.wakeWorkers);
    this.blobs = new Blobs(meta, blobStore, this.accounts, encryption, options.redirectBlobDownloads ?? false);
    this.uploads = new Uploads(meta, blobStore, options.maxBlobBytes ?? 52_000 * 1024 * 1024, encryption, options.spaceReserve, options.uploadHashes);
    this.downloads = new DownloadGrants(meta, this.repositories);
    this.publicRegistries = new PublicRegistries(meta, this.repositories);
  }

  /** Whether the stores answer and the blob store has at least `minFreeBytes` left. */
  readiness(minFreeBytes: number): Promise<Readiness> {
    return checkReadiness(this.meta, this.blobStore, minFreeBytes, this.spaceReserve);
  }

  /** Writes what is still buffered (recorded pulls). */
  async flush(): Promise<void> {
    await this.pulls.flush();
  }

  async close(): Promise<void> {
    await this.pulls.close();
  }
}

/** A master key that lives as long as the process, shared by its registries: for tests only. */
const processMasterKey = MasterKey.fromBytes(randomBytes(32));

function ephemeralEncryption(meta: MetadataStore, blobStore: BlobStore, region: string): BlobEncryption {
  const master = processMasterKey;
  return new BlobEncryption(meta, blobStore, master, new Kms(() => meta.kms, master), region);
}

export type { RepoRef } from './names.js';
