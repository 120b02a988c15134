import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ociAuditReport } from '../../src/doors/oci/observe.js';

const R = '111122223333';
const params = (...args: Parameters<typeof ociAuditReport>) => {
  const report = ociAuditReport(...args);
  return report && JSON.stringify([report.eventName, report.readOnly, report.recipientAccountId, report.requestParameters]);
};
const url = (q = '') => new URL(`http://berth/v2/team/app/blobs/uploads/${q}`);

test('the /v2 data events and their parameters, in the order CloudTrail lists them', () => {
  assert.equal(params('manifest', 'GET', url(), 'application/vnd.oci.image.manifest.v1+json; q=0.9 , ,application/vnd.docker.distribution.manifest.v2+json', R, 'team/app', 'v1'),
    JSON.stringify(['BatchGetImage', true, R, { registryId: R, repositoryName: 'team/app', imageIds: [{ imageTag: 'v1' }], acceptedMediaTypes: ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'] }]));
  assert.equal(params('manifest', 'GET', url(), undefined, R, 'team/app', 'sha256:ab'), JSON.stringify(['BatchGetImage', true, R, { registryId: R, repositoryName: 'team/app', imageIds: [{ imageDigest: 'sha256:ab' }] }]));
  assert.equal(params('manifest', 'PUT', url(), undefined, R, 'team/app', 'v1'), JSON.stringify(['PutImage', false, R, { registryId: R, repositoryName: 'team/app', imageTag: 'v1' }]));
  assert.equal(params('manifest', 'PUT', url(), undefined, R, 'team/app', 'sha256:ab'), JSON.stringify(['PutImage', false, R, { registryId: R, repositoryName: 'team/app', imageDigest: 'sha256:ab' }]));
  assert.equal(params('manifest', 'DELETE', url(), undefined, R, 'team/app', 'sha256:ab'), JSON.stringify(['BatchDeleteImage', false, R, { registryId: R, repositoryName: 'team/app', imageIds: [{ imageDigest: 'sha256:ab' }] }]));
  assert.equal(params('blob', 'GET', url(), undefined, R, 'team/app', 'sha256:cd'), JSON.stringify(['GetDownloadUrlForLayer', true, R, { registryId: R, repositoryName: 'team/app', layerDigest: 'sha256:cd' }]));
  assert.equal(params('uploadStart', 'POST', url(), undefined, R, 'team/app', ''), JSON.stringify(['InitiateLayerUpload', false, R, { registryId: R, repositoryName: 'team/app' }]));
  assert.equal(params('uploadStart', 'POST', url('?digest=sha256:ef'), undefined, R, 'team/app', ''), JSON.stringify(['CompleteLayerUpload', false, R, { registryId: R, repositoryName: 'team/app', layerDigests: ['sha256:ef'] }]));
  assert.equal(params('upload', 'PUT', url('u-1?digest=sha256:ef'), undefined, R, 'team/app', 'u-1'), JSON.stringify(['CompleteLayerUpload', false, R, { registryId: R, repositoryName: 'team/app', uploadId: 'u-1', layerDigests: ['sha256:ef'] }]));
  for (const [route, method] of [['manifest', 'HEAD'], ['blob', 'HEAD'], ['upload', 'PATCH'], ['tags', 'GET'], ['catalog', 'GET']] as const) {
    assert.equal(ociAuditReport(route, method, url(), undefined, R, 'team/app', 'v1'), undefined, `${route} ${method} is not recorded`);
  }
});
