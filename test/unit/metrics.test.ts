import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BerthMetrics } from '../../src/doors/http/metrics.js';
import { metricsToken } from '../../src/doors/http/metrics-endpoint.js';
import { loadConfig } from '../../src/config.js';
import type { RequestFigures, RequestRecord } from '../../src/doors/http/request-record.js';

const figures = { repositories: [{ registryId: '111122223333', repositoryName: 'app', bytes: 42, region: 'us-east-1' }], totalBytes: 42, uploadsInProgress: 1, jobs: [{ kind: 'gc.run', status: 'queued', count: 2 }], readAt: 0 };

function request(action: string, status = 200): [RequestRecord, RequestFigures] {
  return [
    { id: 'x', startedAt: 0, door: 'oci', action },
    { status, bytesIn: 10, bytesOut: 20, durationSeconds: 0.002, clientIp: '127.0.0.1', userAgent: 'ua', method: 'GET', path: '/v2/', completed: true },
  ];
}

test('requests are counted by door, action and status, with latency and bytes', async () => {
  const m = new BerthMetrics();
  m.observer(...request('pull manifest'));
  m.observer(...request('pull manifest'));
  m.observer(...request('pull manifest', 404));
  const text = await m.render(figures);
  assert.match(text, /berth_http_requests_total\{door="oci",action="pull manifest",status="200"\} 2/);
  assert.match(text, /berth_http_requests_total\{door="oci",action="pull manifest",status="404"\} 1/);
  assert.match(text, /berth_http_request_duration_seconds_count\{door="oci",action="pull manifest"\} 3/);
  assert.match(text, /berth_http_request_duration_seconds_bucket\{door="oci",action="pull manifest",le="0.001"\} 0/);
  assert.match(text, /berth_http_request_duration_seconds_bucket\{door="oci",action="pull manifest",le="0.0025"\} 3/);
  assert.match(text, /berth_http_request_duration_seconds_bucket\{door="oci",action="pull manifest",le="\+Inf"\} 3/);
  assert.match(text, /berth_http_sent_bytes_total\{door="oci",action="pull manifest"\} 60/);
  assert.match(text, /berth_repository_storage_bytes\{registry_id="111122223333",repository="app",region="us-east-1"\} 42/);
  assert.match(text, /berth_jobs\{kind="gc.run",status="queued"\} 2/);
  assert.match(text, /berth_uploads_in_progress 1/);
});

test('finished scans are counted by status and type, their findings by severity', async () => {
  const m = new BerthMetrics();
  m.scanFinished({ status: 'COMPLETE', scanType: 'BASIC', counts: { HIGH: 2, LOW: 1, MEDIUM: 0 } });
  m.scanFinished({ status: 'COMPLETE', scanType: 'ENHANCED', counts: { HIGH: 1 } });
  m.scanFinished({ status: 'FAILED', scanType: 'BASIC', counts: {} });
  const text = await m.render(figures);
  assert.match(text, /berth_scans_total\{status="COMPLETE",scan_type="BASIC"\} 1/);
  assert.match(text, /berth_scans_total\{status="COMPLETE",scan_type="ENHANCED"\} 1/);
  assert.match(text, /berth_scans_total\{status="FAILED",scan_type="BASIC"\} 1/);
  assert.match(text, /berth_scan_findings_total\{severity="HIGH"\} 3/);
  assert.match(text, /berth_scan_findings_total\{severity="LOW"\} 1/);
  assert.doesNotMatch(text, /severity="MEDIUM"/);
});

test('caller-chosen action names cannot grow the label sets without bound', async () => {
  const m = new BerthMetrics();
  for (let i = 0; i < 2100; i++) m.observer(...request(`made-up-${i}`));
  const text = await m.render(figures);
  const series = text.split('\n').filter((l) => l.startsWith('berth_http_requests_total{')).length;
  assert.ok(series <= 2001, `${series} series`);
  assert.match(text, /action="other",status="200"\} 100/);
});

test('the Grafana dashboard uses only metric names berth exposes', async () => {
  const dashboard = JSON.parse(await readFile(new URL('../../deploy/grafana/berth.json', import.meta.url), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
  const m = new BerthMetrics();
  m.observer(...request('pull manifest'));
  m.watchAuditTrail({ waiting: 0, written: 0, dropped: 0 });
  const text = await m.render(figures);
  const exposed = new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]));
  const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(?:berth|process|nodejs)_[a-z0-9_]+/g) ?? [])));
  assert.ok(used.size > 10);
  for (const name of used) {
    const counterOnly = /^berth_(gc|lifecycle|job_runs|scan)/.test(name); // appear once something ran
    if (!counterOnly) assert.ok(exposed.has(name), `${name} is not exposed`);
  }
});

test('metrics token: the configured one, else a 0600 file created once and reused; none when public', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-metrics-token-'));
  try {
    assert.equal(await metricsToken({ dataDir: dir, token: 'configured', public: false }), 'configured');
    assert.equal(await metricsToken({ dataDir: dir, public: true }), undefined);
    const created = await metricsToken({ dataDir: dir, public: false });
    assert.ok(created && created.length >= 40);
    assert.equal((await stat(join(dir, 'metrics-token'))).mode & 0o777, 0o600);
    assert.equal(await metricsToken({ dataDir: dir, public: false }), created, 'a restart keeps the token');
    const config = loadConfig({}, { BERTH_METRICS_TOKEN: 'abc', BERTH_METRICS_PUBLIC: 'true' });
    assert.equal(config.metricsToken, 'abc');
    assert.equal(config.metricsPublic, true);
    assert.equal(loadConfig({}, {}).metricsPublic, false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
