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
  // Every parameter object is built whole in one literal (no spreads): this runs on every pull.
  if (route === 'manifest') {
    const imageId = ref.includes(':') ? { imageDigest: ref } : { imageTag: ref };
    if (method === 'GET') {
      const params: Record<string, unknown> = { registryId, repositoryName, imageIds: [imageId] };
      if (accept) params.acceptedMediaTypes = mediaTypes(accept);
      return report('BatchGetImage', true, registryId, params);
    }
    if (method === 'PUT') {
      return report('PutImage', false, registryId, ref.includes(':') ? { registryId, repositoryName, imageDigest: ref } : { registryId, repositoryName, imageTag: ref });
    }
    if (method === 'DELETE') return report('BatchDeleteImage', false, registryId, { registryId, repositoryName, imageIds: [imageId] });
  }
  if (route === 'blob' && method === 'GET') return report('GetDownloadUrlForLayer', true, registryId, { registryId, repositoryName, layerDigest: ref });
  if (route === 'uploadStart' && method === 'POST') {
    const digest = url.searchParams.get('digest');
    if (digest !== null) return report('CompleteLayerUpload', false, registryId, { registryId, repositoryName, layerDigests: [digest] });
    return report('InitiateLayerUpload', false, registryId, { registryId, repositoryName });
  }
  if (route === 'upload' && method === 'PUT') {
    return report('CompleteLayerUpload', false, registryId, { registryId, repositoryName, uploadId: ref, layerDigests: [url.searchParams.get('digest') ?? ''] });
  }
  return undefined;
}

function report(eventName: string, readOnly: boolean, registryId: string, requestParameters: Record<string, unknown>): AuditReport {
  return { eventSource: ECR, eventName, readOnly, requestParameters, recipientAccountId: registryId };
}

/** The media types an Accept header names, without their parameters. */
function mediaTypes(accept: string): string[] {
  const types: string[] = [];
  for (const part of accept.split(',')) {
    const semicolon = part.indexOf(';');
    const type = (semicolon === -1 ? part : part.slice(0, semicolon)).trim();
    if (type) types.push(type);
  }
  return types;
}
