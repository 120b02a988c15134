import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { Job } from '../../store/meta/job-store.js';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { ConnectionRow } from '../../store/meta/eventbridge-store.js';
import { PermanentJobFailure, type JobHandler } from '../jobs/worker.js';
import type { EventEnvelope } from './ecr-events.js';
import type { EventBridge } from './eventbridge.js';

export const DELIVER_JOB = 'eventbridge.deliver';
export const DEFAULT_MAX_RETRY_ATTEMPTS = 185;
export const DEFAULT_MAX_EVENT_AGE_SECONDS = 86_400;
const REQUEST_TIMEOUT_MS = 5_000;
/** Answers EventBridge retries; any other failure status is final. */
const RETRYABLE_STATUS = new Set([401, 407, 409, 429]);

export interface DeliveryPayload {
  accountId: string;
  ruleName: string;
  targetId: string;
  event: EventEnvelope;
}

interface Target {
  Arn: string;
  RoleArn?: string;
  Input?: string;
  InputPath?: string;
  HttpParameters?: { PathParameterValues?: string[]; HeaderParameters?: Record<string, string>; QueryStringParameters?: Record<string, string> };
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
}

/**
 * Delivers one event to one target's API destination: the connection's credentials, its and the
 * target's HTTP parameters, and a signature over the body keyed with the connection's secret
 * (`x-berth-signature: sha256=HMAC(secret, timestamp + "." + body)`), so a receiver can check it.
 * The event id stays the same on every retry.
 */
export function deliveryHandler(eventbridge: EventBridge, meta: MetadataStore, log: Logger): JobHandler {
  const limiter = new RateLimiter();
  return async (job: Job) => {
    const { accountId, ruleName, targetId, event } = job.payload as unknown as DeliveryPayload;
    const stored = await meta.eventbridge.getTarget(accountId, ruleName, targetId);
    if (!stored) return; // removed since: nothing to deliver to
    const target = stored.target as unknown as Target;
    const maxAge = target.RetryPolicy?.MaximumEventAgeInSeconds ?? DEFAULT_MAX_EVENT_AGE_SECONDS;
    if (Date.now() - Date.parse(event.time) > maxAge * 1000) throw new PermanentJobFailure(`event ${event.id} is older than ${maxAge} s: dropped`);
    const destination = await eventbridge.destinationByArn(accountId, target.Arn);
    if (!destination) throw new PermanentJobFailure(`API destination ${target.Arn} no longer exists`);
    const refusal = await eventbridge.invocationRefusal(target, destination.arn);
    if (refusal) throw new PermanentJobFailure(refusal);
    const connection = await eventbridge.connectionByArn(accountId, destination.connectionArn);
    if (!connection) throw new PermanentJobFailure(`connection ${destination.connectionArn} no longer exists`);

    const body = JSON.stringify(inputFor(target, event));
    const url = endpointUrl(destination.endpoint, connection, target);
    const headers = requestHeaders(connection, target, event.id, body);
    await limiter.take(destination.arn, destination.rateLimit);
    const sendsBody = destination.httpMethod !== 'GET' && destination.httpMethod !== 'HEAD';
    let status: number;
    try {
      const res = await fetch(url, {
        method: destination.httpMethod,
        headers,
        body: sendsBody ? body : undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = res.status;
      await res.body?.cancel();
    } catch (err) {
      throw new Error(`delivery to ${destination.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (status >= 200 && status < 300) {
      log.debug({ event: event.id, rule: ruleName, target: targetId, status }, 'event delivered');
      return;
    }
    const message = `${destination.name} answered ${status} for event ${event.id}`;
    if (status >= 500 || RETRYABLE_STATUS.has(status)) throw new Error(message);
    throw new PermanentJobFailure(message);
  };
}

/** Job attempts for a target: its retries plus the first. */
export function maxAttemptsFor(target: Record<string, unknown>): number {
  const retries = (target as unknown as Target).RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_MAX_RETRY_ATTEMPTS;
  return retries + 1;
}

function inputFor(target: Target, event: EventEnvelope): unknown {
  if (target.Input !== undefined) return JSON.parse(target.Input);
  if (target.InputPath !== undefined) {
    let node: unknown = event;
    for (const key of target.InputPath.split('.').slice(1)) node = (node as Record<string, unknown> | undefined)?.[key];
    return node ?? null;
  }
  return event;
}

function endpointUrl(endpoint: string, connection: ConnectionRow, target: Target): string {
  let path = endpoint;
  for (const value of target.HttpParameters?.PathParameterValues ?? []) path = path.replace('*', encodeURIComponent(value));
  const url = new URL(path);
  const invocation = connection.auth.InvocationHttpParameters as { QueryStringParameters?: Array<{ Key: string; Value: string }> } | undefined;
  for (const p of invocation?.QueryStringParameters ?? []) url.searchParams.set(p.Key, p.Value);
  for (const [k, v] of Object.entries(target.HttpParameters?.QueryStringParameters ?? {})) url.searchParams.set(k, v);
  return url.toString();
}

function requestHeaders(connection: ConnectionRow, target: Target, eventId: string, body: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Amazon/EventBridge/ApiDestinations' };
  for (const [k, v] of Object.entries(target.HttpParameters?.HeaderParameters ?? {})) headers[k.toLowerCase()] = v;
  const invocation = connection.auth.InvocationHttpParameters as { HeaderParameters?: Array<{ Key: string; Value: string }> } | undefined;
  for (const p of invocation?.HeaderParameters ?? []) headers[p.Key.toLowerCase()] = p.Value;
  let secret: string;
  if (connection.authorizationType === 'API_KEY') {
    const { ApiKeyName, ApiKeyValue } = connection.auth.ApiKeyAuthParameters as { ApiKeyName: string; ApiKeyValue: string };
    headers[ApiKeyName.toLowerCase()] = ApiKeyValue;
    secret = ApiKeyValue;
  } else {
    const { Username, Password } = connection.auth.BasicAuthParameters as { Username: string; Password: string };
    headers.authorization = `Basic ${Buffer.from(`${Username}:${Password}`).toString('base64')}`;
    secret = Password;
  }
  const timestamp = String(Math.floor(Date.now() / 1000));
  headers['x-berth-event-id'] = eventId;
  headers['x-berth-timestamp'] = timestamp;
  headers['x-berth-signature'] = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
  return headers;
}

/** InvocationRateLimitPerSecond, per destination, in this process. */
class RateLimiter {
  private readonly windows = new Map<string, { second: number; count: number }>();

  async take(key: string, perSecond: number): Promise<void> {
    for (;;) {
      const second = Math.floor(Date.now() / 1000);
      const window = this.windows.get(key);
      if (!window || window.second !== second) {
        this.windows.set(key, { second, count: 1 });
        return;
      }
      if (window.count < perSecond) {
        window.count++;
        return;
      }
      await new Promise((r) => setTimeout(r, (second + 1) * 1000 - Date.now()));
    }
  }
}
