/** The /v2 routes as named descriptors; the first that matches the path wins. */
export type RouteName = 'base' | 'catalog' | 'tags' | 'manifest' | 'uploadStart' | 'upload' | 'blob' | 'referrers';

export interface RouteMatch {
  route: RouteName;
  name: string;
  ref: string;
}

const ROUTES: Array<[RouteName, RegExp]> = [
  ['tags', /^\/v2\/(.+)\/tags\/list$/],
  ['manifest', /^\/v2\/(.+)\/manifests\/([^/]+)$/],
  ['uploadStart', /^\/v2\/(.+)\/blobs\/uploads\/?$/],
  ['upload', /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/],
  ['blob', /^\/v2\/(.+)\/blobs\/([^/]+)$/],
  ['referrers', /^\/v2\/(.+)\/referrers\/([^/]+)$/],
];

export function matchRoute(path: string): RouteMatch | undefined {
  if (path === '/v2/' || path === '/v2') return { route: 'base', name: '', ref: '' };
  if (path === '/v2/_catalog') return { route: 'catalog', name: '', ref: '' };
  for (const [route, re] of ROUTES) {
    const m = re.exec(path);
    if (m) return { route, name: m[1]!, ref: m[2] ?? '' };
  }
  return undefined;
}
