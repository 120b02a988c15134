import { RegistryError } from './errors.js';
import { isValidDigest } from './digest.js';
import { MediaType, isForeignLayer, isIndexMediaType, isManifestMediaType } from './media-types.js';

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: unknown;
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  /** The artifact type as the referrers API reports it: `artifactType`, else the config's media type. */
  artifactType?: string;
  configMediaType?: string;
  subject?: Descriptor;
  /** Blobs that must exist in the repository (config and distributable layers). */
  blobs: string[];
  /** Child manifests that must exist in the repository (indexes). */
  manifests: string[];
  annotations?: Record<string, string>;
  /** Sum of the layer sizes, as ECR reports imageSizeInBytes. */
  layersSize: number;
}

const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function invalid(message: string): RegistryError {
  return new RegistryError('ManifestInvalid', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseMediaTypeString(v: unknown, where: string): string {
  if (typeof v !== 'string' || !MEDIA_TYPE.test(v.split(';')[0]!.trim())) throw invalid(`${where}: invalid mediaType`);
  return v;
}

function parseAnnotations(v: unknown, where: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw invalid(`${where}: annotations must be a map of strings`);
  }
  return v as Record<string, string>;
}

export function parseDescriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v)) throw invalid(`${where}: descriptor must be an object`);
  const mediaType = parseMediaTypeString(v.mediaType, where);
  if (typeof v.digest !== 'string' || !isValidDigest(v.digest)) throw invalid(`${where}: invalid digest`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) throw invalid(`${where}: invalid size`);
  if (v.artifactType !== undefined) parseMediaTypeString(v.artifactType, `${where}.artifactType`);
  if (v.urls !== undefined && (!Array.isArray(v.urls) || !v.urls.every((u) => typeof u === 'string'))) {
    throw invalid(`${where}: urls must be a list of strings`);
  }
  return {
    mediaType,
    digest: v.digest,
    size: v.size,
    artifactType: v.artifactType as string | undefined,
    annotations: parseAnnotations(v.annotations, where),
    platform: v.platform,
    urls: v.urls as string[] | undefined,
  };
}

/** Decides the manifest's media type from the body's own field and the request's Content-Type. */
function resolveMediaType(doc: Record<string, unknown>, contentType: string | undefined): string {
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const header = contentType?.split(';')[0]!.trim().toLowerCase();
  const headerIsManifest = header !== undefined && isManifestMediaType(header);
  if (declared !== undefined) {
    if (!isManifestMediaType(declared)) throw invalid(`unsupported manifest media type: ${declared}`);
    if (headerIsManifest && header !== declared) {
      throw invalid(`manifest mediaType ${declared} does not match Content-Type ${header}`);
    }
    return declared;
  }
  if (doc.mediaType !== undefined) throw invalid('mediaType must be a string');
  if (headerIsManifest) return header!;
  if (header && header !== 'application/json' && header !== 'application/octet-stream') {
    throw invalid(`unsupported manifest media type: ${header}`);
  }
  if (Array.isArray(doc.manifests)) return MediaType.ociIndex;
  if (isObject(doc.config)) return MediaType.ociManifest;
  throw invalid('cannot determine the manifest media type');
}

/** Parses and validates a manifest body; the bytes themselves are kept by the caller as pushed. */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw new RegistryError('ManifestTooLarge', 'manifest too large');
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!isObject(doc)) throw invalid('manifest must be a JSON object');
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const mediaType = resolveMediaType(doc, contentType);
  const annotations = parseAnnotations(doc.annotations, 'manifest');
  const subject = doc.subject === undefined ? undefined : parseDescriptor(doc.subject, 'subject');
  let artifactType: string | undefined;
  if (doc.artifactType !== undefined) artifactType = parseMediaTypeString(doc.artifactType, 'artifactType');

  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw invalid('index must have a manifests list');
    const children = doc.manifests.map((d, i) => parseDescriptor(d, `manifests[${i}]`));
    return {
      mediaType,
      artifactType,
      subject,
      blobs: [],
      manifests: unique(children.map((c) => c.digest)),
      annotations,
      layersSize: 0,
    };
  }

  if (doc.manifests !== undefined) throw invalid('an image manifest has no manifests list');
  const config = parseDescriptor(doc.config, 'config');
  if (!Array.isArray(doc.layers)) throw invalid('manifest must have a layers list');
  const layers = doc.layers.map((d, i) => parseDescriptor(d, `layers[${i}]`));
  const distributable = layers.filter((l) => !isForeignLayer(l.mediaType));
  return {
    mediaType,
    artifactType: artifactType ?? (mediaType === MediaType.ociManifest ? config.mediaType : undefined),
    configMediaType: config.mediaType,
    subject,
    blobs: unique([config.digest, ...distributable.map((l) => l.digest)]),
    manifests: [],
    annotations,
    layersSize: layers.reduce((sum, l) => sum + l.size, 0),
  };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/**
 * The media type a PutImage stores: the manifest's own `mediaType`, or `imageManifestMediaType`
 * when the manifest has none. Both given must agree; neither given leaves the manifest unreadable,
 * as ECR then reads it as a schema 1 manifest.
 */
export function putImageMediaType(bytes: Buffer, given: string | undefined): string {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  const declared = isObject(doc) && typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (given !== undefined && !isManifestMediaType(given)) {
    throw new RegistryError('InvalidParameter', `Invalid manifest media type: ${given.slice(0, 255)}`, { field: 'imageManifestMediaType' });
  }
  if (given !== undefined && declared !== undefined && given !== declared) {
    throw new RegistryError('InvalidParameter', `Manifest media type '${declared.slice(0, 255)}' does not match imageManifestMediaType '${given}'`, {
      field: 'imageManifestMediaType',
    });
  }
  const mediaType = given ?? declared;
  if (mediaType === undefined) throw invalid('manifest has no mediaType and none was given');
  return mediaType;
}

/** An image's size as ECR reports it: its config plus its layers; 0 for an index. */
export function imageSize(body: Buffer): number {
  try {
    const doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const size = (d: unknown) => (isObject(d) && typeof d.size === 'number' ? d.size : 0);
    return size(doc.config) + (Array.isArray(doc.layers) ? doc.layers.reduce((sum: number, l) => sum + size(l), 0) : 0);
  } catch {
    return 0;
  }
}
