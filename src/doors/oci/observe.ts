import type { AuditReport } from '../http/request-record.js';
import type { RouteName } from './routes.js';

/** The request log's name for a /v2 request, by route and method. */
export function ociAction(route: RouteName, method: string, url: URL): string {
  switch (route) {
    case 'base': return 'version check';
    case 'catalog': return 'list catalog';
    case 'tags': return 'list tags';
    case 'referrers': return 'list referrers';
    case 'manifest': return { GET: 'pull manifest', HEAD: 'check manifest', PUT: 'push manifest', DELETE: 'delete manifest' }[method] ?? method;
    case 'blob': return { GET: 'pull blob', HEAD: 'check blob', DELETE: 'delete blob' }[method] ?? method;
    case 'uploadStart':
      if (url.searchParams.has('mount')) return 'mount blob';
      return url.searchParams.has('digest') ? 'push blob' : 'start upload';
    case 'upload': return { GET: 'upload status', PATCH: 'push blob chunk', PUT: 'push blob', DELETE: 'cancel upload' }[method] ?? method;
  }
}

const ECR = 'ecr.amazonaws.com';

/**
 * The data events ECR records in CloudTrail for registry traffic: a push is InitiateLayerUpload,
 * CompleteLayerUpload and PutImage; a pull is BatchGetImage and GetDownloadUrlForLayer. A manifest
 * DELETE is BatchDeleteImage, which it is authorized as. Other /v2 requests are not recorded.
 */
export function ociAuditReport(route: RouteName, method: string, url: URL, accept: string | undefined, registryId: string, repositoryName: string, ref: string): AuditReport | undefined {
  const base = { registryId, repositoryName };
  const imageId = ref.includes(':') ? { imageDigest: ref } : { imageTag: ref };
  const report = (eventName: string, readOnly: boolean, requestParameters: Record<string, unknown>): AuditReport => ({
    eventSource: ECR,
    eventName,
    readOnly,
    requestParameters,
    recipientAccountId: registryId,
  });
  if (route === 'manifest') {
    if (method === 'GET') return report('BatchGetImage', true, { ...base, imageIds: [imageId], ...(accept ? { acceptedMediaTypes: accept.split(',').map((t) => t.split(';')[0]!.trim()).filter(Boolean) } : {}) });
    if (method === 'PUT') return report('PutImage', false, { ...base, ...(ref.includes(':') ? { imageDigest: ref } : { imageTag: ref }) });
    if (method === 'DELETE') return report('BatchDeleteImage', false, { ...base, imageIds: [imageId] });
  }
  if (route === 'blob' && method === 'GET') return report('GetDownloadUrlForLayer', true, { ...base, layerDigest: ref });
  if (route === 'uploadStart' && method === 'POST') {
    const digest = url.searchParams.get('digest');
    if (digest !== null) return report('CompleteLayerUpload', false, { ...base, layerDigests: [digest] });
    return report('InitiateLayerUpload', false, base);
  }
  if (route === 'upload' && method === 'PUT') {
    return report('CompleteLayerUpload', false, { ...base, uploadId: ref, layerDigests: [url.searchParams.get('digest') ?? ''] });
  }
  return undefined;
}
