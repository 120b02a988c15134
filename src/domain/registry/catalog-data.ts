/** ECR Public catalog data of a repository, as stored in its settings. */
export interface RepositoryCatalogData {
  description?: string;
  architectures?: string[];
  operatingSystems?: string[];
  /** The repository logo (PutRepositoryCatalogData's logoImageBlob), base64. */
  logoImageBase64?: string;
  aboutText?: string;
  usageText?: string;
}

/** The media type of a logo, from its first bytes: PNG, JPEG or GIF, else octet-stream. */
export function logoMediaType(bytes: Buffer): string {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  return 'application/octet-stream';
}
