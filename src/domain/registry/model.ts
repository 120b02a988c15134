import type { ManifestRow, RepositoryRow, TagRow, UploadRow } from '../../store/meta/metadata-store.js';
export type { BlobReader, ByteRange } from '../../store/blob/blob-store.js';
import { readSettings, type RepositorySettings } from './settings.js';

/** What the doors see of the registry's state; the stores' rows stay behind the domain. */
export interface Repository {
  id: string;
  registryId: string;
  name: string;
  createdAt: number;
  settings: RepositorySettings;
}

export type Manifest = ManifestRow;
export type Tag = TagRow;
export type Upload = UploadRow;
export type ManifestWithTags = Manifest & { tags: string[] };

export function toRepository(row: RepositoryRow): Repository {
  return { id: row.id, registryId: row.registryId, name: row.name, createdAt: row.createdAt, settings: readSettings(row.settings) };
}
