// How many bytes of disk the history stream (ADR 0110) takes per event, measured on the broker
// itself: a stream in its own namespace, kept to MAX bytes in SEGMENT-byte segments, is sent more
// events than it can keep; RabbitMQ then keeps whole segments totalling MAX give or take one
// segment, so the events still in it tell the bytes per event within SEGMENT / MAX either way.
// Usage: node scripts/measure-history-disk.mjs   (RABBITMQ_URL, default the local broker)
import { randomBytes, randomUUID } from 'node:crypto';
import amqplib from 'amqplib';

const url = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const MAX = 20_000_000;
const SEGMENT = 1_000_000;
const SENT = 80_000;
const stream = `measure-history-${randomBytes(3).toString('hex')}`;

// A typical order.confirmed as the relay publishes it: envelope, two items, the publish headers.
const message = () => {
  const id = randomUUID();
  const envelope = {
    specversion: '1.0', id, source: '/banyan/monolith', type: 'order.confirmed', subject: randomUUID(),
    time: new Date().toISOString(), datacontenttype: 'application/json', sequence: 2, origin: 'monolith',
    traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    data: { orderId: randomUUID(), userId: randomUUID(), paymentId: randomUUID(), totalCents: 4998,
      items: [{ productId: randomUUID(), quantity: 1, priceCents: 2499 }, { productId: randomUUID(), quantity: 1, priceCents: 2499 }],
      confirmedAt: new Date().toISOString() },
  };
  const content = Buffer.from(JSON.stringify(envelope));
  const options = { persistent: true, messageId: id, type: envelope.type, contentType: 'application/cloudevents+json', timestamp: Date.now(),
    headers: { traceparent: envelope.traceparent, 'x-banyan-aggregate-sequence': 2 } };
  return { content, options };
};

const connection = await amqplib.connect(url);
const channel = await connection.createConfirmChannel();
await channel.assertQueue(stream, { durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-length-bytes': MAX, 'x-stream-max-segment-size-bytes': SEGMENT } });
let payload = 0;
for (let i = 0; i < SENT; i++) {
  const m = message();
  payload += m.content.length;
  if (!channel.sendToQueue(stream, m.content, m.options)) await new Promise((r) => channel.once('drain', r));
}
await channel.waitForConfirms();
// Retention runs when a segment rolls over; one more segment's worth makes sure it has.
await new Promise((r) => setTimeout(r, 1_000));

const reader = await connection.createChannel();
await reader.prefetch(1_000);
let kept = 0;
let idle;
await new Promise((resolve) => {
  reader.consume(stream, (msg) => {
    kept++;
    reader.ack(msg);
    clearTimeout(idle);
    idle = setTimeout(resolve, 500);
  }, { arguments: { 'x-stream-offset': 'first' } });
  idle = setTimeout(resolve, 2_000);
});
await reader.close();
await channel.deleteQueue(stream);
await connection.close();
const perEvent = (bytes) => (bytes / kept).toFixed(0);
console.log(JSON.stringify({ sent: SENT, kept, payloadBytesPerEvent: (payload / SENT).toFixed(0),
  diskBytesPerEvent: `${perEvent(MAX - SEGMENT)}–${perEvent(MAX + SEGMENT)}`,
  gbPerMillionEvents: `${(((MAX - SEGMENT) / kept) * 1e6 / 1e9).toFixed(2)}–${(((MAX + SEGMENT) / kept) * 1e6 / 1e9).toFixed(2)}` }));
