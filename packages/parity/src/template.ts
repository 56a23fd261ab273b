export type Vars = Record<string, unknown>;

const WHOLE = /^\{\{\s*([\w.-]+)\s*\}\}$/;
const ANY = /\{\{\s*([\w.-]+)\s*\}\}/g;

function lookup(vars: Vars, name: string): unknown {
  // An unknown variable is a broken scenario; sending the literal `{{x}}` would hide it behind a 404.
  if (!(name in vars)) throw new Error(`unknown variable {{${name}}} (known: ${Object.keys(vars).join(', ') || 'none'})`);
  return vars[name];
}

/** `{{var}}` in a string; `encode` is for paths, where a captured value must stay one segment or one query value. */
export function fillString(template: string, vars: Vars, encode = false): string {
  return template.replace(ANY, (_, name: string) => {
    const value = String(lookup(vars, name));
    return encode ? encodeURIComponent(value) : value;
  });
}

/** Deep: a string that is exactly one `{{var}}` becomes the variable's value with its type. */
export function fill(value: unknown, vars: Vars): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    return whole ? lookup(vars, whole[1]) : fillString(value, vars);
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, vars));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
}
