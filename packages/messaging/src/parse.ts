import type { ConsumeMessage } from 'amqplib';
import { envelopeSchema, eventSchemas, type EventEnvelope } from '@banyan/events';

/** A delivered message as an event of the queue's type, or why it is not one (dead-lettered, never retried). */
export type Parsed = { ok: true; event: EventEnvelope } | { ok: false; reason: string };

export function parse(msg: ConsumeMessage, expectedType: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(msg.content.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` };
  }
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) return { ok: false, reason: `invalid envelope: ${describeIssues(envelope.error.issues)}` };
  if (envelope.data.type !== expectedType) {
    return { ok: false, reason: `event type "${envelope.data.type}" arrived on the queue of "${expectedType}"` };
  }
  const schema = eventSchemas[expectedType as keyof typeof eventSchemas];
  if (schema) {
    const data = schema.safeParse(envelope.data.data);
    if (!data.success) return { ok: false, reason: `invalid ${expectedType} data: ${describeIssues(data.error.issues)}` };
    return { ok: true, event: { ...(envelope.data as EventEnvelope), data: data.data } };
  }
  return { ok: true, event: envelope.data as EventEnvelope };
}

function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
}
