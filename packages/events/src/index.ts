import { z } from 'zod';

/**
 * The envelope every Banyan event travels in: CloudEvents 1.0 attributes plus the extensions
 * Banyan needs (`sequence` per aggregate, `origin` for two-way sync, W3C trace context).
 */
export interface EventEnvelope<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  /** Position of this event in its aggregate's history: 1, 2, 3 … (the aggregate's version). */
  sequence: number;
  /** The process that made the change (e.g. `monolith`, `products-service`); stops echo loops. */
  origin: string;
  traceparent?: string;
  tracestate?: string;
  data: T;
}

export const envelopeSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().min(1),
  time: z.string().min(1),
  datacontenttype: z.literal('application/json'),
  sequence: z.number().int().positive(),
  origin: z.string().min(1),
  traceparent: z.string().optional(),
  tracestate: z.string().optional(),
  data: z.unknown(),
});

/** One durable topic exchange per domain; the routing key is the event type. */
export const DOMAIN_OF_EVENT_PREFIX = {
  user: 'users',
  product: 'products',
  order: 'orders',
  payment: 'payments',
  notification: 'notifications',
} as const;

export type Domain = 'users' | 'products' | 'orders' | 'payments' | 'notifications' | 'analytics';
export const DOMAINS: Domain[] = ['users', 'products', 'orders', 'payments', 'notifications', 'analytics'];

export function exchangeFor(eventType: string): string {
  const prefix = eventType.split('.')[0] as keyof typeof DOMAIN_OF_EVENT_PREFIX;
  const domain = DOMAIN_OF_EVENT_PREFIX[prefix];
  if (!domain) throw new Error(`No exchange for event type "${eventType}"`);
  return domain;
}

const uuid = z.string().uuid();
const cents = z.number().int().nonnegative();
const orderItem = z.object({ productId: uuid, quantity: z.number().int().positive(), priceCents: cents });

const product = z.object({
  productId: uuid,
  sku: z.string(),
  name: z.string(),
  description: z.string(),
  priceCents: cents,
  stock: z.number().int().nonnegative(),
});

/**
 * What the other side of a two-way sync needs to rebuild a payment row it has never seen (the
 * payer, for who may read it; the processor's reference, to refund it after switching back).
 * Optional so events written before these fields existed still validate.
 */
const paymentReplica = {
  userId: uuid.optional(),
  cardLast4: z.string().regex(/^\d{4}$/).optional(),
  processorReference: z.string().optional(),
};

/** The data of each contract event. Consumers validate against these; an invalid one is dead-lettered. */
export const eventSchemas = {
  'user.registered': z.object({ userId: uuid, email: z.string().email(), name: z.string(), role: z.enum(['customer', 'admin']) }),
  /**
   * The whole account after a registration or a profile change, for the users domain's two-way
   * sync only (ADR 0333): no other domain binds a queue to it. It carries the password hash (never
   * a password) so an account moves with its credential.
   */
  'user.account_changed': z.object({
    userId: uuid,
    email: z.string().email(),
    name: z.string(),
    role: z.enum(['customer', 'admin']),
    passwordHash: z.string().min(1),
  }),
  'product.created': product,
  'product.updated': product,
  'product.stock_changed': z.object({
    productId: uuid,
    delta: z.number().int(),
    stock: z.number().int().nonnegative(),
    reason: z.enum(['adjustment', 'order_reserved', 'order_released']),
    orderId: uuid.optional(),
    // The rest of the product at this event's sequence, so a two-way sync that applies the newest
    // event it sees never skips an earlier change that travels on another queue (ADR 0301's
    // amendment). Optional: events written before it carry the stock alone.
    sku: z.string().optional(),
    name: z.string().optional(),
    description: z.string().optional(),
    priceCents: cents.optional(),
  }),
  'order.created': z.object({
    orderId: uuid,
    userId: uuid,
    customerEmail: z.string().email(),
    status: z.enum(['pending', 'confirmed', 'payment_declined', 'cancelled']),
    totalCents: cents,
    items: z.array(orderItem).min(1),
    createdAt: z.string(),
  }),
  'order.confirmed': z.object({ orderId: uuid, userId: uuid, paymentId: uuid, totalCents: cents, items: z.array(orderItem).min(1), confirmedAt: z.string() }),
  'order.cancelled': z.object({
    orderId: uuid,
    userId: uuid,
    reason: z.enum(['customer', 'payment_declined']),
    status: z.enum(['cancelled', 'payment_declined']),
    totalCents: cents,
    items: z.array(orderItem).min(1),
    /** Whether the order had counted as a sale (it had been confirmed) before this cancellation. */
    wasConfirmed: z.boolean(),
    cancelledAt: z.string(),
  }),
  'payment.captured': z.object({ paymentId: uuid, orderId: uuid, amountCents: cents, ...paymentReplica }),
  'payment.declined': z.object({ paymentId: uuid, orderId: uuid, amountCents: cents, reason: z.string(), ...paymentReplica }),
  'payment.refunded': z.object({ paymentId: uuid, orderId: uuid, amountCents: cents, ...paymentReplica }),
  'notification.sent': z.object({
    notificationId: uuid,
    channel: z.literal('email'),
    to: z.string(),
    subject: z.string(),
    orderId: uuid.optional(),
    // What another side needs to rebuild the row (two-way sync while notifications is extracted).
    // Optional so events written before these fields existed stay valid.
    userId: uuid.optional(),
    status: z.literal('sent').optional(),
    body: z.string().optional(),
    /** The event that asked for the notification (`order.created`'s id). */
    sourceEventId: uuid.optional(),
    createdAt: z.string().optional(),
    sentAt: z.string().optional(),
  }),
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventSchemas)[T]>;
export const EVENT_TYPES = Object.keys(eventSchemas) as EventType[];
