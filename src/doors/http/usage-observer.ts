import type { UsageMeter } from '../../domain/usage/usage-meter.js';
import type { RequestObserver } from './request-record.js';

/** Requests whose response bytes are data transferred out of a repository: content, not listings. */
const CONTENT_READS = new Set(['pull manifest', 'pull blob', 'download layer', 'BatchGetImage']);

/**
 * Meters each finished request that used a repository: the bytes sent for manifest and blob GETs
 * on /v2, layer downloads and BatchGetImage (headers included, as sent); a pull for each manifest
 * GET on /v2 and each BatchGetImage call that succeeded; a push for each manifest stored
 * (`PUT /v2/…/manifests/…` or PutImage).
 */
export function usageObserver(meter: UsageMeter): RequestObserver {
  return (record, figures) => {
    const repo = record.usedRepository;
    if (!repo || !record.action) return;
    const action = record.action;
    const ok = figures.status >= 200 && figures.status < 300;
    const transferOutBytes = CONTENT_READS.has(action) && figures.status < 400 ? figures.bytesOut : 0;
    const pull = ok && (action === 'pull manifest' || action === 'BatchGetImage');
    const push = ok && (action === 'push manifest' || action === 'PutImage');
    if (transferOutBytes > 0 || pull || push) meter.count(repo, { transferOutBytes, pull, push }, record.startedAt);
  };
}
