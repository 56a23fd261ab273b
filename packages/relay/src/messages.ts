import { propagation, ROOT_CONTEXT, SpanKind, trace, type Span } from '@opentelemetry/api';
import type { EventEnvelope } from '@banyan/events';
import { publishOptions, type Names } from '@banyan/messaging';
import type { OutgoingMessage } from './publisher';
import type { RelayRow } from './store';

const tracer = trace.getTracer('@banyan/relay');

/**
 * The envelope as JSON with the stored jsonb text spliced in as its `data` (last, as `encode()`
 * writes it): the relay never parses an event's data only to serialise it again.
 */
function encodeStored(head: EventEnvelope, dataJson: string): Buffer {
  const json = JSON.stringify(head); // `data: undefined` is left out
  return Buffer.from(`${json.slice(0, -1)},"data":${dataJson}}`);
}

/**
 * An outbox row as the message to publish, with its `<type> publish` span started; the caller
 * ends the span when the broker's confirm (or failure) is in.
 */
export function toMessage(row: RelayRow, n: Names): { message: OutgoingMessage; span: Span } {
  // The envelope without its data, in encode()'s key order; the data is spliced in as stored.
  const envelope: EventEnvelope = {
    specversion: '1.0',
    id: row.id,
    source: row.source,
    type: row.type,
    subject: row.aggregate_id,
    time: row.time,
    datacontenttype: 'application/json',
    sequence: Number(row.sequence),
    origin: row.origin,
    data: undefined,
  };
  const carrier: Record<string, string> = {};
  if (row.traceparent) envelope.traceparent = carrier.traceparent = row.traceparent;
  if (row.tracestate) envelope.tracestate = carrier.tracestate = row.tracestate;
  // The span continues the trace of the request that wrote the row, stored with it.
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  const span = tracer.startSpan(
    `${row.type} publish`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'publish',
        'messaging.destination.name': n.exchange(row.exchange),
        'messaging.rabbitmq.destination.routing_key': row.type,
        'messaging.message.id': row.id,
        'banyan.aggregate.id': row.aggregate_id,
        'banyan.aggregate.sequence': Number(row.sequence),
      },
    },
    parent,
  );
  return {
    message: {
      exchange: n.exchange(row.exchange),
      routingKey: row.type,
      content: encodeStored(envelope, row.data_json),
      options: publishOptions(envelope, trace.setSpan(parent, span)),
    },
    span,
  };
}
