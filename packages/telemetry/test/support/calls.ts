import type { ReceivedSpan } from '../otlp-receiver';

/** One HTTP call of a flow, its JSON body parsed. */
export async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * The spans of one trace, once `done` says everything expected has arrived (or 20 s passed):
 * each process exports on its own schedule, so a test waits for the spans it will look at.
 */
export async function traceOf(receiver: { spans: ReceivedSpan[] }, traceId: string, done: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    if (done(spans) || Date.now() > deadline) return spans;
    await new Promise((r) => setTimeout(r, 100));
  }
}
