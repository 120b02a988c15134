import type { Logger } from 'pino';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import { PUT_EVENT, putEventEnvelope } from './custom-events.js';
import { ecrEnvelopes } from './ecr-events.js';
import { DELIVER_JOB, maxAttemptsFor, type DeliveryPayload } from './delivery.js';
import { compilePattern, type EventPattern } from './pattern.js';

const CURSOR = 'eventbridge:outbox-cursor';
const BATCH = 200;

/**
 * Turns the outbox into deliveries: each new change becomes ECR's EventBridge events, matched
 * against every enabled rule; each match becomes one delivery job per target. One node at a time
 * moves the cursor (a lock in the database), in the same transaction as the jobs it queues, so an
 * event is matched once however many nodes run this. Events from before the first start are not
 * replayed; rules see events that happen after they exist.
 */
export class EventDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly patterns = new Map<string, EventPattern>();

  constructor(
    private readonly meta: MetadataStore,
    private readonly region: string,
    private readonly log: Logger,
    private readonly onQueued: () => void = () => undefined,
    private readonly pollMs = 1000,
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.dispatchAll()
        .then(() => undefined)
        .catch((err: unknown) => this.log.warn({ err }, 'event dispatch failed; retrying'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.pollMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Dispatches until the outbox has nothing new; returns the deliveries queued. */
  async dispatchAll(): Promise<number> {
    let queued = 0;
    for (;;) {
      const { events, deliveries } = await this.dispatchBatch();
      queued += deliveries;
      if (events < BATCH) break;
    }
    if (queued > 0) this.onQueued();
    return queued;
  }

  private dispatchBatch(): Promise<{ events: number; deliveries: number }> {
    return this.meta.transaction(async (tx) => {
      await tx.lock(CURSOR);
      const cursor = await tx.getSetting(CURSOR);
      if (cursor === undefined) {
        await tx.setSetting(CURSOR, String(await tx.events.lastSeq()));
        return { events: 0, deliveries: 0 };
      }
      const events = await tx.events.list({ after: Number(cursor), limit: BATCH });
      if (events.length === 0) return { events: 0, deliveries: 0 };
      const rules = await tx.eventbridge.enabledRules();
      let deliveries = 0;
      for (const event of events) {
        const envelopes = event.type === PUT_EVENT ? [putEventEnvelope(event, this.region)] : ecrEnvelopes(event, this.region);
        for (const envelope of envelopes) {
          for (const rule of rules) {
            if (rule.accountId !== envelope.account || !this.pattern(rule.eventPattern).matches(envelope)) continue;
            for (const target of await tx.eventbridge.listTargets(rule.accountId, rule.name)) {
              const payload: DeliveryPayload = { accountId: rule.accountId, ruleName: rule.name, targetId: target.targetId, event: envelope };
              await tx.jobs.enqueue({
                kind: DELIVER_JOB,
                dedupeKey: `eventbridge:${envelope.id}:${rule.arn}:${target.targetId}`,
                payload: payload as unknown as Record<string, unknown>,
                maxAttempts: maxAttemptsFor(target.target),
              });
              deliveries++;
            }
          }
        }
      }
      await tx.setSetting(CURSOR, String(events[events.length - 1]!.seq));
      return { events: events.length, deliveries };
    }, CURSOR);
  }

  private pattern(text: string): EventPattern {
    let compiled = this.patterns.get(text);
    if (!compiled) {
      compiled = compilePattern(text);
      this.patterns.set(text, compiled);
    }
    return compiled;
  }
}
