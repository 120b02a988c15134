export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociNondistributableLayers: [
    'application/vnd.oci.image.layer.nondistributable.v1.tar',
    'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
    'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  ],
} as const;

export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
];

export function isIndexMediaType(mt: string): boolean {
  return mt === MediaType.ociIndex || mt === MediaType.dockerManifestList;
}

export function isManifestMediaType(mt: string): boolean {
  return MANIFEST_MEDIA_TYPES.includes(mt);
}

/** Layers that clients fetch from elsewhere (their `urls`), so the registry need not hold them. */
export function isForeignLayer(mt: string): boolean {
  return mt === MediaType.dockerForeignLayer || (MediaType.ociNondistributableLayers as readonly string[]).includes(mt);
}
