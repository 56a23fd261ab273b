/**
 * The one path syntax scenarios use everywhere — for captures, expectations, ignored fields and
 * order-insensitive arrays: `status`, `headers.location`, `body.items[0].id`, `body.items[*].createdAt`.
 * Deliberately tiny (no filters, no recursion): scenarios are read by people comparing two systems,
 * and a path they cannot read at a glance is a rule they cannot trust.
 */
export type Segment = string | number | '*';

export function parsePath(path: string): Segment[] {
  const segments: Segment[] = [];
  const pattern = /([^.[\]]+)|\[(\*|\d+)\]/g;
  let consumed = 0;
  for (const match of path.matchAll(pattern)) {
    const between = path.slice(consumed, match.index);
    if (between !== '' && between !== '.') throw new Error(`Bad path "${path}" near "${between}"`);
    consumed = match.index + match[0].length;
    if (match[1] !== undefined) segments.push(match[1] === '*' ? '*' : match[1]);
    else segments.push(match[2] === '*' ? '*' : Number(match[2]));
  }
  if (consumed !== path.length || segments.length === 0) throw new Error(`Bad path "${path}"`);
  return segments;
}

export function formatPath(segments: readonly Segment[]): string {
  return segments.map((s, i) => (typeof s === 'number' || (s === '*' && i > 0) ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** The value at a concrete path (no wildcards), or undefined when any step is missing. */
export function getPath(root: unknown, path: string | Segment[]): unknown {
  let node: unknown = root;
  for (const segment of typeof path === 'string' ? parsePath(path) : path) {
    if (segment === '*') throw new Error('getPath takes concrete paths; wildcards are for rules');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/**
 * Rewrite, in place, every value a (possibly wildcarded) path selects. The root is replaced via
 * the returned value so a rule on `body` itself works too.
 */
export function updatePath(root: unknown, path: string | Segment[], update: (value: unknown) => unknown): unknown {
  const segments = typeof path === 'string' ? parsePath(path) : path;
  const visit = (node: unknown, depth: number): unknown => {
    if (depth === segments.length) return update(node);
    if (node === null || typeof node !== 'object') return node;
    const segment = segments[depth];
    const container = node as Record<string | number, unknown>;
    const keys = segment === '*' ? Object.keys(container) : [segment];
    for (const key of keys) {
      if (!(key in container)) continue;
      container[key] = visit(container[key], depth + 1);
    }
    return node;
  };
  return visit(root, 0);
}

/** `/items/0/name` (a JSON pointer, as rfc6902 reports it) → `['body', 'items', 0, 'name']`. */
export function pointerToSegments(pointer: string, root: string): Segment[] {
  const tokens = pointer
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  return [root, ...tokens.map((t) => (/^\d+$/.test(t) ? Number(t) : t))];
}
