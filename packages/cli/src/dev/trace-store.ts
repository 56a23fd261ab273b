import type { CaughtSpan } from './otlp-spans';

/** The last 500 traces: a session's worth of clicking around, and the list page shows 20. */
const MAX_TRACES = 500;
/** One trace: a checkout is about 150 spans; a runaway loop's trace stops growing here. */
const MAX_SPANS_PER_TRACE = 5_000;
/** All traces together, by count. */
const MAX_SPANS = 100_000;
/**
 * All traces together, by bytes: 32 MiB of caught spans at most, whatever their count. The
 * supervisor is a development tool beside eight other processes; a few tens of MiB is what a
 * newcomer's laptop gives it without noticing, and 32 MiB holds the last 500 checkouts.
 */
export const MAX_STORED_BYTES = 32 * 1024 * 1024;
/**
 * What one span costs in V8's heap besides its name and service strings: the object and its
 * eleven fields, two BigInts and three id strings. Measured at about 310 bytes on Node 24 (100,000
 * parsed spans named `POST /api/orders`, name included); rounded up, as this is a bound.
 */
const SPAN_OVERHEAD_BYTES = 384;
/** Strings are counted at two bytes a character (V8 keeps non-Latin-1 strings as UTF-16). */
export const spanBytes = (s: CaughtSpan) => SPAN_OVERHEAD_BYTES + 2 * (s.name.length + s.service.length);

/** Caught traces in arrival order, the oldest dropped first beyond any of the bounds above. */
export class TraceStore {
  private readonly traces = new Map<string, CaughtSpan[]>();
  private spans = 0;
  private bytes = 0;

  keep(spans: CaughtSpan[]): void {
    for (const span of spans) {
      let trace = this.traces.get(span.traceId);
      if (!trace) this.traces.set(span.traceId, (trace = []));
      if (trace.length >= MAX_SPANS_PER_TRACE) continue;
      trace.push(span);
      this.spans++;
      this.bytes += spanBytes(span);
      // Oldest trace out first (a Map iterates in insertion order), never the one just added to.
      while (this.over() && this.traces.keys().next().value !== span.traceId) this.dropOldest();
    }
  }

  get(traceId: string): CaughtSpan[] | undefined {
    return this.traces.get(traceId);
  }

  /** The newest `n` traces, newest first. */
  recent(n: number): Array<[string, CaughtSpan[]]> {
    return [...this.traces.entries()].slice(-n).reverse();
  }

  get size(): { traces: number; spans: number; bytes: number } {
    return { traces: this.traces.size, spans: this.spans, bytes: this.bytes };
  }

  private over(): boolean {
    return this.traces.size > MAX_TRACES || this.spans > MAX_SPANS || this.bytes > MAX_STORED_BYTES;
  }

  private dropOldest(): void {
    const [oldest, spans] = this.traces.entries().next().value!;
    this.spans -= spans.length;
    for (const s of spans) this.bytes -= spanBytes(s);
    this.traces.delete(oldest);
  }
}
