import { connect, type ChannelModel } from 'amqplib';
import { declareTopology, DELIVERY_LIMIT, names, type DeclaredTopology } from '../src';
import { dropTopology, RABBITMQ_URL, testNamespace } from './support';

/**
 * What the broker holds after `declareTopology`, read back the only way AMQP allows: declaring the
 * same name with different properties is refused (406 PRECONDITION_FAILED, naming the property),
 * the same properties are accepted. So these prove the durable exchanges, the quorum queue type,
 * the delivery limit and the dead-letter routing, not just that the names exist.
 */
describe('topology as declared on the real broker', () => {
  let connection: ChannelModel;
  let declared: DeclaredTopology;
  const namespace = testNamespace('topology');
  const n = names(namespace);
  const queue = n.queue('notification', 'order.created');

  beforeAll(async () => {
    connection = await connect(RABBITMQ_URL);
    const channel = await connection.createChannel();
    const bindings = [{ consumer: 'notification', eventType: 'order.created' }, { consumer: 'loans', eventType: 'book.saved', exchange: 'books' }];
    declared = await declareTopology(channel, { namespace, bindings });
    // Idempotent: any process may declare it again at every (re)connect, a named exchange included.
    await declareTopology(channel, { namespace, bindings });
    await channel.close();
  });
  afterAll(async () => {
    await connection.close();
    await dropTopology(declared);
  });

  /** Declare on a channel of its own (a refusal closes the channel) and return the broker's answer. */
  async function redeclare(declare: (ch: Awaited<ReturnType<ChannelModel['createChannel']>>) => Promise<unknown>): Promise<string> {
    const channel = await connection.createChannel();
    channel.on('error', () => {}); // the refusal also arrives as a channel error
    try {
      await declare(channel);
      await channel.close();
      return 'accepted';
    } catch (err) {
      return String((err as Error).message);
    }
  }

  const queueArgs = {
    'x-queue-type': 'quorum',
    'x-delivery-limit': DELIVERY_LIMIT,
    'x-dead-letter-exchange': n.deadLetterExchange,
    'x-dead-letter-routing-key': queue,
  };

  test('the contract queue `<consumer>.<event type>` is a durable quorum queue with the delivery limit and its dead-letter route', async () => {
    expect(queue).toBe(`${namespace}notification.order.created`);
    expect(await redeclare((ch) => ch.assertQueue(queue, { durable: true, arguments: queueArgs }))).toBe('accepted');
    expect(await redeclare((ch) => ch.assertQueue(queue, { durable: true, arguments: { ...queueArgs, 'x-queue-type': 'classic' } }))).toMatch(/PRECONDITION_FAILED.*x-queue-type/);
    expect(await redeclare((ch) => ch.assertQueue(queue, { durable: true, arguments: { ...queueArgs, 'x-delivery-limit': DELIVERY_LIMIT + 1 } }))).toMatch(/PRECONDITION_FAILED.*x-delivery-limit/);
    expect(await redeclare((ch) => ch.assertQueue(queue, { durable: true, arguments: { ...queueArgs, 'x-dead-letter-exchange': 'elsewhere' } }))).toMatch(/PRECONDITION_FAILED.*x-dead-letter-exchange/);
  });

  test('its dead-letter queue exists as a quorum queue, and every domain exchange is a durable topic exchange', async () => {
    expect(await redeclare((ch) => ch.checkQueue(n.deadLetterQueue(queue)))).toBe('accepted');
    expect(await redeclare((ch) => ch.assertQueue(n.deadLetterQueue(queue), { durable: true, arguments: { 'x-queue-type': 'classic' } }))).toMatch(/PRECONDITION_FAILED/);
    expect(await redeclare((ch) => ch.assertExchange(n.exchange('orders'), 'topic', { durable: true }))).toBe('accepted');
    expect(await redeclare((ch) => ch.assertExchange(n.exchange('orders'), 'topic', { durable: false }))).toMatch(/PRECONDITION_FAILED.*durable/);
    expect(await redeclare((ch) => ch.assertExchange(n.exchange('orders'), 'fanout', { durable: true }))).toMatch(/PRECONDITION_FAILED.*type/);
  });

  test("a binding that names its exchange (an event type outside the catalog) gets that exchange, bound to the type", async () => {
    expect(declared.exchanges).toContain(n.exchange('books'));
    expect(await redeclare((ch) => ch.assertExchange(n.exchange('books'), 'topic', { durable: true }))).toBe('accepted');
    expect(await redeclare((ch) => ch.checkQueue(n.queue('loans', 'book.saved')))).toBe('accepted');
    const channel = await connection.createChannel();
    await channel.publish(n.exchange('books'), 'book.saved', Buffer.from('{}'));
    await new Promise((r) => setTimeout(r, 300));
    const got = await channel.get(n.queue('loans', 'book.saved'), { noAck: true });
    await channel.close();
    expect(got && got.content.toString()).toBe('{}');
  });
});
