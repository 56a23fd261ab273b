import client from 'prom-client';

/**
 * The metric called `name` in the default registry, created by `create` the first time. Several
 * instances of one component may live in a process (two relays in a test, a consumer group per
 * module in the monolith) and prom-client refuses to register a name twice; they share one
 * metric and tell their series apart by labels.
 */
export function registerOnce<T extends client.Metric<string>>(name: string, create: () => T): T {
  return (client.register.getSingleMetric(name) as T | undefined) ?? create();
}

/**
 * A gauge whose value is read when Prometheus scrapes, from every live source: each source
 * (e.g. one outbox database, one breaker) adds its own labelled samples. Cheap to keep up to date
 * because nothing is computed between scrapes. `add` returns the function that removes the source.
 */
export interface ScrapedGauge<L extends string> {
  add(key: string, read: (set: (labels: Partial<Record<L, string>>, value: number) => void) => void | Promise<void>): () => void;
}

export function scrapedGauge<L extends string>(name: string, help: string, labelNames: readonly L[]): ScrapedGauge<L> {
  type Read = Parameters<ScrapedGauge<L>['add']>[1];
  const holder = registerOnce(name, () => {
    const sources = new Map<string, Read>();
    const gauge = new client.Gauge<L>({
      name,
      help,
      labelNames,
      async collect() {
        // A source that went away since the last scrape must not leave its last value behind.
        this.reset();
        await Promise.all([...sources.values()].map((read) => read((labels, value) => this.set(labels, value))));
      },
    });
    return Object.assign(gauge, { sources });
  }) as client.Gauge<L> & { sources: Map<string, Read> };
  return {
    add(key, read) {
      holder.sources.set(key, read);
      return () => {
        if (holder.sources.get(key) === read) holder.sources.delete(key);
      };
    },
  };
}
