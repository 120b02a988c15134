import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { requestLine, requestLogObserver } from '../../src/doors/http/request-log.js';
import type { RequestFigures, RequestRecord } from '../../src/doors/http/request-record.js';

const TIME = 1_796_255_330_389;

/** The line pino writes for the same request, at a fixed time. */
function pinoLine(record: RequestRecord, figures: RequestFigures): string {
  let written = '';
  const log = pino({ level: 'info', base: undefined, timestamp: () => `,"time":${TIME}` }, { write: (s: string) => void (written += s) });
  requestLogObserver(log)(record, figures);
  return written;
}

const figures: RequestFigures = {
  status: 200,
  bytesIn: 484,
  bytesOut: 1159,
  durationSeconds: 0.000341,
  clientIp: '127.0.0.1',
  userAgent: 'docker/27.0 go/go1.22',
  method: 'GET',
  path: '/v2/team/app/manifests/latest',
  completed: true,
};
const principal = { arn: 'arn:aws:iam::111122223333:user/alice', account: '111122223333', userName: 'alice', anonymous: false } as RequestRecord['principal'];

test('the request line is the line pino writes, field for field and byte for byte', () => {
  const cases: Array<[RequestRecord, RequestFigures]> = [
    [{ id: 'req-1', startedAt: 0, door: 'oci', action: 'pull manifest', repository: 'team/app', principal }, figures],
    [{ id: 'req-2', startedAt: 0, door: 'none' }, { ...figures, status: 404, path: '/nowhere', userAgent: '', completed: false }],
    [{ id: 'req-3', startedAt: 0, door: 'ecr', action: 'PutImage', principal, errorCode: 'ImageAlreadyExistsException' }, { ...figures, method: 'POST', path: '/', status: 400, durationSeconds: 1.2345678 }],
    [{ id: 'req-4', startedAt: 0, door: 'oci', repository: 'a"b\\c' }, { ...figures, userAgent: 'quote " backslash \\ tab \t newline \n é 漢字 😀', clientIp: '::1' }],
    [{ id: 'req-5', startedAt: 0, door: 'iam', action: 'x'.repeat(150) }, { ...figures, status: 499, bytesIn: 0, bytesOut: 0, durationSeconds: 0, completed: false }],
  ];
  for (const [record, f] of cases) {
    const line = requestLine(record, f, TIME);
    assert.equal(line, pinoLine(record, f), record.id);
    assert.equal(JSON.parse(line).msg, 'request');
  }
});
