import type { Knex } from 'knex';
import { OUTBOX_PARTITIONS } from '@banyan/outbox';

/**
 * Several relay instances split the outbox by partition (a hash of the aggregate id): each
 * partition is leased to one instance at a time, so one aggregate's events are only ever
 * published by one instance, in order. Every instance announces itself; each takes its fair
 * share (partitions ÷ live instances) of the free or expired leases and gives back what is
 * above it. A dead instance stops renewing; after the lease TTL the others take its share.
 */
export class PartitionLeases {
  constructor(
    private readonly knex: Knex,
    readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  /** Keep this instance and its leases alive. Safe at any moment, even mid-batch. */
  async renew(): Promise<void> {
    await this.knex.raw(
      `INSERT INTO outbox.relay_instances (id, seen_at) VALUES (?, clock_timestamp())
       ON CONFLICT (id) DO UPDATE SET seen_at = EXCLUDED.seen_at`,
      [this.owner],
    );
    await this.knex.raw(
      `UPDATE outbox.relay_leases SET expires_at = clock_timestamp() + make_interval(secs => ?::float8 / 1000)
        WHERE owner = ? AND expires_at > clock_timestamp()`,
      [this.ttlMs, this.owner],
    );
  }

  /**
   * Take or give back partitions towards the fair share. Only called between batches: a
   * partition is released with nothing of it in flight, so its next owner never races us.
   */
  async rebalance(): Promise<number[]> {
    await this.renew();
    const { rows: live } = await this.knex.raw<{ rows: Array<{ n: string }> }>(
      `SELECT count(*) AS n FROM outbox.relay_instances WHERE seen_at > clock_timestamp() - make_interval(secs => ?::float8 / 1000)`,
      [this.ttlMs],
    );
    const share = Math.ceil(OUTBOX_PARTITIONS / Math.max(1, Number(live[0].n)));
    let owned = await this.owned();
    if (owned.length > share) {
      const release = owned.slice(share);
      await this.knex.raw(
        `UPDATE outbox.relay_leases SET owner = NULL, expires_at = '-infinity' WHERE owner = ? AND partition = ANY(?::smallint[])`,
        [this.owner, release],
      );
      owned = owned.slice(0, share);
    } else if (owned.length < share) {
      const { rows } = await this.knex.raw<{ rows: Array<{ partition: number }> }>(
        `UPDATE outbox.relay_leases SET owner = ?, expires_at = clock_timestamp() + make_interval(secs => ?::float8 / 1000)
          WHERE partition IN (
            SELECT partition FROM outbox.relay_leases
             WHERE owner IS NULL OR expires_at <= clock_timestamp()
             ORDER BY partition LIMIT ? FOR UPDATE SKIP LOCKED)
          RETURNING partition`,
        [this.owner, this.ttlMs, share - owned.length],
      );
      owned = [...owned, ...rows.map((r) => r.partition)].sort((a, b) => a - b);
    }
    // Instances dead for long are forgotten so they stop counting in the fair share.
    await this.knex.raw(
      `DELETE FROM outbox.relay_instances WHERE seen_at < clock_timestamp() - make_interval(secs => ?::float8 / 1000)`,
      [this.ttlMs * 3],
    );
    return owned;
  }

  async owned(): Promise<number[]> {
    const { rows } = await this.knex.raw<{ rows: Array<{ partition: number }> }>(
      `SELECT partition FROM outbox.relay_leases WHERE owner = ? AND expires_at > clock_timestamp() ORDER BY partition`,
      [this.owner],
    );
    return rows.map((r) => r.partition);
  }

  /** Clean stop: hand every partition over at once instead of after the TTL. */
  async releaseAll(): Promise<void> {
    await this.knex.raw(`UPDATE outbox.relay_leases SET owner = NULL, expires_at = '-infinity' WHERE owner = ?`, [this.owner]);
    await this.knex.raw(`DELETE FROM outbox.relay_instances WHERE id = ?`, [this.owner]);
  }
}
