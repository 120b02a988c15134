// Image scanning end to end with the real aws CLI v2: advisories imported with `berth admin vulndb
// import`, an image built with umoci from real Debian package data pushed with skopeo into a
// repository with scanOnPush, the scan run in the background, findings read with
// describe-image-scan-findings and the image-scan-complete waiter; registry scanning rules, the
// 24-hour limit, ENHANCED findings for language packages, and a corrupt layer failing only its scan.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile, copyFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DescribeImageScanFindingsCommand } from '@aws-sdk/client-ecr';
import { AWS, awsCliEnv } from '../helpers/aws-cli.js';
import { REPO_ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { buildImage, type LayoutImage } from '../helpers/images.js';
import { MediaType, putManifest, sha256, uploadBlob } from '../helpers/oci.js';
import { dpkgStanzas } from '../helpers/layers.js';
import { run, skopeo, skopeoCreds, tempDir } from '../helpers/tools.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'scanning');

describe('image scanning via the aws CLI v2', () => {
  let b: Berth;
  let work: { path: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  let image: LayoutImage;
  let password: string;

  const aws = async (args: string[], check = true) => {
    const res = await run(AWS, ['--endpoint-url', b.url, '--output', 'json', 'ecr', ...args], { env, check: false, timeoutMs: 360_000 });
    if (check && res.code !== 0) assert.fail(`aws ecr ${args.join(' ')} exited ${res.code}: ${res.stderr}\n${b.output().slice(-3000)}`);
    return res;
  };
  const awsJson = async <T = Record<string, any>>(args: string[]): Promise<T> => JSON.parse((await aws(args)).stdout) as T;
  const awsError = async (args: string[]): Promise<{ name: string; stderr: string }> => {
    const res = await aws(args, false);
    assert.notEqual(res.code, 0, `aws ecr ${args.join(' ')} should have failed: ${res.stdout}`);
    return { name: /An error occurred \((\w+)\)/.exec(res.stderr)?.[1] ?? res.stderr, stderr: res.stderr };
  };
  const admin = async (args: string[]) =>
    (await run('node', [join(REPO_ROOT, 'bin', 'berth.js'), 'admin', ...args, '--data-dir', b.dataDir], { env: { BERTH_LOG_LEVEL: 'warn' }, check: false })).stdout;
  const push = (repo: string, tag = 'v1', from = image) =>
    skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', ...skopeoCreds('--dest-creds', password), from.ref, `docker://${b.host}/${repo}:${tag}`]);
  const waitScanned = (repo: string, tag = 'v1') => aws(['wait', 'image-scan-complete', '--repository-name', repo, '--image-id', `imageTag=${tag}`]);
  const findings = (repo: string, tag = 'v1', extra: string[] = []) =>
    awsJson(['describe-image-scan-findings', '--repository-name', repo, '--image-id', `imageTag=${tag}`, ...extra]);

  before(async () => {
    b = await startBerth();
    work = await tempDir('scanning-e2e');
    env = await awsCliEnv(b);
    password = (await aws(['get-login-password'])).stdout.trim();

    // One layer, a Debian 12 root: os-release behind its symlink, a dpkg database of real stanzas
    // (libcurl4 at the vulnerable 7.88.1-10+deb12u5, this machine's libc6, zlib1g, python3-urllib3
    // and the urllib3 egg-info dpkg owns), and two real npm packages.
    const root = join(work.path, 'rootfs');
    await mkdir(join(root, 'usr/lib'), { recursive: true });
    await mkdir(join(root, 'etc'), { recursive: true });
    await mkdir(join(root, 'var/lib/dpkg/info'), { recursive: true });
    await mkdir(join(root, 'usr/lib/python3/dist-packages/urllib3-1.26.12.egg-info'), { recursive: true });
    await mkdir(join(root, 'app/node_modules/lodash'), { recursive: true });
    await mkdir(join(root, 'app/node_modules/minimist'), { recursive: true });
    await copyFile('/usr/lib/os-release', join(root, 'usr/lib/os-release'));
    await symlink('../usr/lib/os-release', join(root, 'etc/os-release'));
    const curl = (await readFile(join(FIXTURES, 'dpkg', 'libcurl4_7.88.1-10+deb12u5.control'), 'utf8')).trim();
    await writeFile(join(root, 'var/lib/dpkg/status'), `${curl}\n\n${dpkgStanzas(['libc6', 'zlib1g', 'python3-urllib3'])}`);
    await copyFile('/var/lib/dpkg/info/python3-urllib3.md5sums', join(root, 'var/lib/dpkg/info/python3-urllib3.md5sums'));
    await copyFile('/usr/lib/python3/dist-packages/urllib3-1.26.12.egg-info/PKG-INFO', join(root, 'usr/lib/python3/dist-packages/urllib3-1.26.12.egg-info/PKG-INFO'));
    await copyFile(join(FIXTURES, 'lodash-4.17.11.package.json'), join(root, 'app/node_modules/lodash/package.json'));
    await copyFile(join(FIXTURES, 'minimist-1.2.5.package.json'), join(root, 'app/node_modules/minimist/package.json'));
    image = await buildImage({ layout: join(work.path, 'layout'), tag: 'v1', files: [{ path: '/', source: root }] });
  });

  after(async () => {
    await b?.destroy();
    await work?.remove();
  });

  // The tracker snapshot, fetched a day ago: its converted records are as new as the file.
  const trackerFetchedAt = Math.floor(Date.now() / 1000 - 24 * 60 * 60) * 1000;

  test('advisories import with berth admin vulndb; status reports them', async () => {
    const tracker = join(work.path, 'debian-tracker.json');
    await copyFile(join(FIXTURES, 'debian-tracker.json'), tracker);
    await utimes(tracker, new Date(trackerFetchedAt), new Date(trackerFetchedAt));
    const report = JSON.parse(await admin(['vulndb', 'import', tracker, join(FIXTURES, 'osv'), '--json']));
    assert.equal(report.failed, 0);
    assert.ok(report.added >= 9, JSON.stringify(report));
    const status = JSON.parse(await admin(['vulndb', 'status', '--json']));
    assert.equal(status.newestModified, trackerFetchedAt);
    assert.ok(status.ecosystems.some((e: { ecosystem: string }) => e.ecosystem === 'Debian:12'));
    assert.ok(status.sources.some((s: { source: string }) => s.source === 'debian-security-tracker'));
    assert.equal(status.stale, false);
  });

  test('scan on push: the push returns, the scan completes in the background, findings name the vulnerable Debian package', async () => {
    await aws(['create-repository', '--repository-name', 'scan/app', '--image-scanning-configuration', 'scanOnPush=true']);
    await push('scan/app');
    await waitScanned('scan/app');
    const out = await findings('scan/app');
    assert.equal(out.imageScanStatus.status, 'COMPLETE');
    assert.equal(out.imageScanStatus.description, 'The scan was completed successfully.');
    assert.equal(out.imageId.imageDigest, image.digest);
    const f = out.imageScanFindings;
    assert.ok(f.imageScanCompletedAt);
    // The CLI prints timestamps as ISO 8601 text (or epoch seconds, with cli_timestamp_format=none).
    const sourceUpdatedAt = typeof f.vulnerabilitySourceUpdatedAt === 'number' ? f.vulnerabilitySourceUpdatedAt * 1000 : Date.parse(f.vulnerabilitySourceUpdatedAt);
    assert.equal(sourceUpdatedAt, trackerFetchedAt, 'the newest modified of the database');
    const names = f.findings.map((x: { name: string }) => x.name).sort();
    // libcurl4 7.88.1-10+deb12u5 has CVE-2024-2004 and CVE-2024-2398 (fixed in deb12u6) but not CVE-2023-38545 (fixed in deb12u4);
    // BASIC reports no language packages (lodash, minimist) and nothing for the fixed libc6, zlib1g, python3-urllib3.
    assert.deepEqual(names, ['CVE-2024-2004', 'CVE-2024-2398']);
    const cve = f.findings.find((x: { name: string }) => x.name === 'CVE-2024-2398');
    assert.equal(cve.severity, 'MEDIUM');
    assert.deepEqual(cve.attributes, [
      { key: 'package_version', value: '7.88.1-10+deb12u5' },
      { key: 'package_name', value: 'libcurl4' },
    ]);
    assert.equal(cve.uri, 'https://security-tracker.debian.org/tracker/CVE-2024-2398');
    assert.deepEqual(f.findingSeverityCounts, { LOW: 1, MEDIUM: 1 });
    const described = (await awsJson(['describe-images', '--repository-name', 'scan/app', '--image-ids', 'imageTag=v1'])).imageDetails[0];
    assert.equal(described.imageScanStatus.status, 'COMPLETE');
    assert.deepEqual(described.imageScanFindingsSummary.findingSeverityCounts, { LOW: 1, MEDIUM: 1 });
    assert.ok(described.imageScanFindingsSummary.imageScanCompletedAt);

    // Paging: the server answers one finding per page (--page-size is maxResults); the CLI follows nextToken.
    const first = await findings('scan/app', 'v1', ['--page-size', '1', '--max-items', '1']);
    assert.equal(first.imageScanFindings.findings.length, 1);
    assert.ok(first.NextToken);
    const second = await findings('scan/app', 'v1', ['--page-size', '1', '--max-items', '1', '--starting-token', first.NextToken]);
    assert.equal(second.imageScanFindings.findings.length, 1);
    assert.notEqual(second.imageScanFindings.findings[0].name, first.imageScanFindings.findings[0].name);
    const all = await findings('scan/app', 'v1', ['--page-size', '1']);
    assert.deepEqual(all.imageScanFindings.findings.map((x: { name: string }) => x.name).sort(), names);

    // One scan per image per 24 hours, scan on push included.
    assert.equal((await awsError(['start-image-scan', '--repository-name', 'scan/app', '--image-id', 'imageTag=v1'])).name, 'LimitExceededException');
  });

  test('on demand: ScanNotFoundException before any scan, start-image-scan, wait, findings', async () => {
    await aws(['create-repository', '--repository-name', 'scan/manual']);
    await push('scan/manual');
    assert.equal((await awsError(['describe-image-scan-findings', '--repository-name', 'scan/manual', '--image-id', 'imageTag=v1'])).name, 'ScanNotFoundException');
    const started = await awsJson(['start-image-scan', '--repository-name', 'scan/manual', '--image-id', 'imageTag=v1']);
    assert.equal(started.imageScanStatus.status, 'IN_PROGRESS');
    assert.equal(started.imageId.imageDigest, image.digest);
    await waitScanned('scan/manual');
    assert.equal((await findings('scan/manual')).imageScanFindings.findings.length, 2);
    assert.equal((await awsError(['start-image-scan', '--repository-name', 'scan/manual', '--image-id', 'imageTag=nope'])).name, 'ImageNotFoundException');
  });

  test('registry scanning configuration: BASIC rules with wildcard filters scan on push; what BASIC cannot do is refused', async () => {
    const initial = await awsJson(['get-registry-scanning-configuration']);
    assert.deepEqual(initial.scanningConfiguration, { scanType: 'BASIC', rules: [] });
    const rules = JSON.stringify([{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'auto-*', filterType: 'WILDCARD' }] }]);
    const put = await awsJson(['put-registry-scanning-configuration', '--scan-type', 'BASIC', '--rules', rules]);
    assert.deepEqual(put.registryScanningConfiguration.rules[0].repositoryFilters, [{ filter: 'auto-*', filterType: 'WILDCARD' }]);
    const continuous = JSON.stringify([{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }]);
    assert.equal((await awsError(['put-registry-scanning-configuration', '--scan-type', 'BASIC', '--rules', continuous])).name, 'ValidationException');
    const badFilter = JSON.stringify([{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'UPPER', filterType: 'WILDCARD' }] }]);
    assert.equal((await awsError(['put-registry-scanning-configuration', '--scan-type', 'BASIC', '--rules', badFilter])).name, 'InvalidParameterException');
    assert.deepEqual((await awsJson(['get-registry-scanning-configuration'])).scanningConfiguration.rules[0].scanFrequency, 'SCAN_ON_PUSH');

    await aws(['create-repository', '--repository-name', 'auto-app']);
    const batch = await awsJson(['batch-get-repository-scanning-configuration', '--repository-names', 'auto-app', 'scan/manual', 'scan/app', 'missing']);
    const byName = Object.fromEntries(batch.scanningConfigurations.map((c: { repositoryName: string }) => [c.repositoryName, c]));
    assert.deepEqual(byName['auto-app'].appliedScanFilters, [{ filter: 'auto-*', filterType: 'WILDCARD' }]);
    assert.equal(byName['auto-app'].scanFrequency, 'SCAN_ON_PUSH');
    assert.equal(byName['auto-app'].scanOnPush, true);
    assert.equal(byName['scan/manual'].scanFrequency, 'MANUAL');
    assert.equal(byName['scan/app'].scanFrequency, 'SCAN_ON_PUSH');
    assert.deepEqual(batch.failures, [{ repositoryName: 'missing', failureCode: 'REPOSITORY_NOT_FOUND', failureReason: 'REPOSITORY_NOT_FOUND' }]);

    await push('auto-app');
    await waitScanned('auto-app');
    assert.equal((await findings('auto-app')).imageScanFindings.findings.length, 2);
  });

  test('ENHANCED: language packages as enhancedFindings in Inspector\'s shape; manual scans refused', async () => {
    const rules = JSON.stringify([{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: 'enh/*', filterType: 'WILDCARD' }] }]);
    await aws(['put-registry-scanning-configuration', '--scan-type', 'ENHANCED', '--rules', rules]);
    try {
      await enhancedScan();
    } finally {
      await aws(['put-registry-scanning-configuration', '--scan-type', 'BASIC']);
    }
  });

  async function enhancedScan(): Promise<void> {
    await aws(['create-repository', '--repository-name', 'enh/app']);
    await push('enh/app');
    let out: Record<string, any> = {};
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      out = await findings('enh/app');
      if (!['PENDING', 'IN_PROGRESS'].includes(out.imageScanStatus.status)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(out.imageScanStatus.status, 'ACTIVE', JSON.stringify(out));
    const enhanced = out.imageScanFindings.enhancedFindings as Array<Record<string, any>>;
    const ids = enhanced.map((f) => `${f.packageVulnerabilityDetails.vulnerabilityId} ${f.packageVulnerabilityDetails.vulnerablePackages[0].name}`).sort();
    assert.deepEqual(ids, ['CVE-2019-10744 lodash', 'CVE-2021-44906 minimist', 'CVE-2024-2004 libcurl4', 'CVE-2024-2398 libcurl4']);
    const lodash = enhanced.find((f) => f.packageVulnerabilityDetails.vulnerabilityId === 'CVE-2019-10744')!;
    assert.equal(lodash.severity, 'CRITICAL');
    assert.equal(lodash.score, 9.1);
    assert.equal(lodash.type, 'PACKAGE_VULNERABILITY');
    // fixedInVersion, fixAvailable and exploitAvailable are newer than this CLI's model (it drops
    // them): the AWS SDK for JS reads them.
    const sdk = await b.ecr!.send(new DescribeImageScanFindingsCommand({ repositoryName: 'enh/app', imageId: { imageTag: 'v1' } }));
    const viaSdk = sdk.imageScanFindings!.enhancedFindings!.find((f) => f.packageVulnerabilityDetails?.vulnerabilityId === 'CVE-2019-10744')!;
    assert.equal(viaSdk.packageVulnerabilityDetails!.vulnerablePackages![0]!.fixedInVersion, '4.17.12');
    assert.equal(viaSdk.fixAvailable, 'YES');
    assert.equal(viaSdk.exploitAvailable, 'NO');
    assert.equal(lodash.resources[0].details.awsEcrContainerImage.imageHash, image.digest);
    assert.equal(out.imageScanFindings.findings, undefined);
    assert.equal((await awsError(['start-image-scan', '--repository-name', 'enh/app', '--image-id', 'imageTag=v1'])).name, 'ValidationException');
  }

  test('a corrupt layer fails its scan with a reason; the server keeps serving', async () => {
    await aws(['create-repository', '--repository-name', 'scan/corrupt']);
    const layer = Buffer.concat([gzipSync(Buffer.alloc(4096, 1)).subarray(0, 30), Buffer.alloc(2048, 0xee)]);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
    await uploadBlob(b, 'scan/corrupt', layer);
    await uploadBlob(b, 'scan/corrupt', config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
      }),
    );
    const put = await putManifest(b, 'scan/corrupt', 'v1', manifest, MediaType.ociManifest);
    assert.equal(put.status, 201, put.body.toString());
    await aws(['start-image-scan', '--repository-name', 'scan/corrupt', '--image-id', 'imageTag=v1']);
    const waited = await aws(['wait', 'image-scan-complete', '--repository-name', 'scan/corrupt', '--image-id', 'imageTag=v1'], false);
    assert.notEqual(waited.code, 0, 'the waiter stops on FAILED');
    const out = await findings('scan/corrupt');
    assert.equal(out.imageScanStatus.status, 'FAILED');
    assert.match(out.imageScanStatus.description, /unreadable layer/);
    assert.equal((await awsJson(['describe-repositories', '--repository-names', 'scan/corrupt'])).repositories.length, 1);
  });

  test('/metrics counts the scans by status and their findings by severity, and times the scan jobs', async () => {
    const token = (await readFile(join(b.dataDir, 'metrics-token'), 'utf8')).trim();
    const text = await (await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(series + ' '));
      return line === undefined ? 0 : Number(line.slice(series.length + 1));
    };
    // The earlier tests completed BASIC scans (scan/app: one LOW, one MEDIUM finding) and failed one (scan/corrupt).
    assert.ok(value('berth_scans_total{status="COMPLETE",scan_type="BASIC"}') >= 1, text);
    assert.ok(value('berth_scans_total{status="FAILED",scan_type="BASIC"}') >= 1);
    assert.ok(value('berth_scan_findings_total{severity="MEDIUM"}') >= 1);
    assert.ok(value('berth_scan_findings_total{severity="LOW"}') >= 1);
    assert.ok(value('berth_job_runs_total{kind="scan.image",outcome="succeeded"}') >= 2);
    assert.ok(value('berth_job_duration_seconds_count{kind="scan.image"}') >= 2);
  });
});
