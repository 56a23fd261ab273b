import { MODES } from '../domains';
import { DEFAULT_THRESHOLDS as GATE } from '../ramp/gates';

const modeForm = (domain: string, rule: string | undefined) => {
  const id = rule ? `${domain}-rule-${rule}` : domain;
  const label = rule ? `${domain} rule ${rule}` : domain;
  // A rule may also follow its domain again (`inherit`), which the domain itself cannot.
  const modes = rule ? ['inherit', ...MODES] : MODES;
  return `
            <form class="route-form${rule ? ' rule-form' : ''}" data-domain="${domain}"${rule ? ` data-rule="${rule}"` : ''}>${rule ? `
              <span class="rule-what" data-field="rule-what">rule ${rule}</span>` : ''}
              <label for="mode-${id}" class="visually-hidden">Mode for ${label}</label>
              <select id="mode-${id}" name="mode">${modes.map((m) => `<option value="${m}">${m}</option>`).join('')}</select>
              <label for="percent-${id}" class="visually-hidden">Canary percent for ${label}</label>
              <input id="percent-${id}" name="percent" type="number" min="0" max="100" step="1" inputmode="numeric" value="10" disabled> %
              <button type="submit">Apply</button>
              <span class="row-message" role="status" data-field="message"></span>
            </form>`;
};

const routeRow = (domain: string, rules: readonly string[]) => `
        <tr id="route-${domain}" data-domain="${domain}">
          <th scope="row">${domain}</th>
          <td class="mode" data-field="mode">…</td>
          <td class="targets" data-field="targets"></td>
          <td class="num" data-field="monolith-rate"></td>
          <td class="num" data-field="extracted-rate"></td>
          <td>${modeForm(domain, undefined)}${rules.map((rule) => modeForm(domain, rule)).join('')}
          </td>
        </tr>`;

/** The ramp's gates, each empty for its default (shown as the placeholder), in the CLI's formats (`--max-error-rate 1%`, `--hold 2m`). */
const GATE_FIELDS: Array<[name: string, label: string, placeholder: string]> = [
  ['maxErrorRate', 'max error rate over the old side', `${GATE.maxErrorRate * 100}%`],
  ['maxP99Ratio', "max p99 × the old side's", String(GATE.maxP99Ratio)],
  ['p99Floor', 'p99 floor', `${GATE.p99FloorMs}ms`],
  ['maxMismatchRate', 'max shadow mismatch', `${GATE.maxMismatchRate * 100}%`],
  ['maxLag', 'max sync lag', `${GATE.maxLagMs / 1000}s`],
  ['minRequests', 'min requests per step', String(GATE.minRequests)],
];
const gateFields = () =>
  GATE_FIELDS.map(
    ([name, label, placeholder]) => `
          <label for="ramp-${name}">${label}</label>
          <input id="ramp-${name}" name="${name}" placeholder="${placeholder}" size="6" spellcheck="false">`,
  ).join('');

/** What a ramp can move: each domain, and each of its route rules on its own (ADR 0213). */
const rampTargets = (domains: readonly string[], rules: Readonly<Record<string, readonly string[]>>) =>
  domains.map((d) => [`<option value="${d}">${d}</option>`, ...(rules[d] ?? []).map((r) => `<option value="${d}/${r}">${d} rule ${r}</option>`)].join('')).join('');

/**
 * The page is the same for everyone and holds no data: only the contract's domain names and the
 * empty tables. Everything else arrives from the admin API with the token, so serving it
 * without one gives nothing away.
 */
/**
 * `domains` and the names in `rules` (each domain's route rules) are declared names (lower-case
 * letters, digits, _ and -), safe in HTML and ids as they are; a rule's method and path are not
 * (a path may hold `&` or `'`), so the script fills those in as text.
 */
export function renderPage(domains: readonly string[], rules: Readonly<Record<string, readonly string[]>> = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>Banyan gateway</title>
  <link rel="stylesheet" href="/dashboard/dashboard.css">
  <script src="/dashboard/app.js" defer></script>
</head>
<body>
  <header>
    <h1>Banyan gateway</h1>
    <p id="refreshed" class="muted" aria-live="off"></p>
    <button type="button" id="sign-out" hidden>Sign out</button>
  </header>
  <div id="banner" role="alert" hidden></div>

  <section id="login" aria-labelledby="login-title">
    <h2 id="login-title">Sign in</h2>
    <form id="login-form">
      <label for="token">Admin token (<code>BANYAN_ADMIN_TOKEN</code>)</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required>
      <button type="submit">Sign in</button>
      <p id="login-message" role="status"></p>
    </form>
    <p class="muted">The token stays in this tab (session storage) and is sent only as an <code>Authorization</code> header to this gateway's admin API.</p>
  </section>

  <main id="dashboard" hidden>
    <section aria-labelledby="routes-title">
      <h2 id="routes-title">Routes</h2>
      <table>
        <thead>
          <tr><th scope="col">Domain</th><th scope="col">Mode</th><th scope="col">Targets</th>
          <th scope="col">Monolith req/s · 5xx</th><th scope="col">Extracted req/s · 5xx</th><th scope="col">Change</th></tr>
        </thead>
        <tbody>${domains.map((d) => routeRow(d, rules[d] ?? [])).join('')}
        </tbody>
      </table>
      <p class="muted" id="rates-window"></p>
    </section>

    <section aria-labelledby="ramps-title">
      <h2 id="ramps-title">Ramps</h2>
      <table id="ramps">
        <thead><tr><th scope="col">Ramp</th><th scope="col">Of</th><th scope="col">Status</th><th scope="col">Steps and verdicts</th><th scope="col">Hold</th><th scope="col">Driver / reason</th></tr></thead>
        <tbody></tbody>
      </table>
      <form id="ramp-form">
        <label for="ramp-target">Ramp</label>
        <select id="ramp-target" name="key">${rampTargets(domains, rules)}</select>
        <label for="ramp-steps">steps</label>
        <input id="ramp-steps" name="steps" value="1,5,25,50,100" size="16" spellcheck="false" aria-describedby="ramp-help">
        <label for="ramp-hold">hold each</label>
        <input id="ramp-hold" name="hold" value="2m" size="5" spellcheck="false" aria-describedby="ramp-help">
        <details id="ramp-gates">
          <summary>Gates</summary>${gateFields()}
        </details>
        <button type="submit">Start ramp</button>
        <span class="row-message" role="status" id="ramp-message"></span>
      </form>
      <p class="muted" id="ramp-help">Steps are canary percents (100 is the switch itself; <code>shadow</code> may come first), the hold a duration with its unit (<code>500ms</code>, <code>30s</code>, <code>2m</code>, <code>1h</code>), as <code>npx banyan ramp &lt;domain&gt; --steps 1,5,25,50,100 --hold 2m</code> takes them; each step's preflight and gates are described in docs/gateway.md. <strong>Gates</strong> left empty keep their defaults (shown greyed), as the CLI's <code>--max-error-rate</code>, <code>--max-p99-ratio</code>, <code>--p99-floor</code>, <code>--max-mismatch-rate</code>, <code>--max-lag</code> and <code>--min-requests</code> do. <strong>Abort</strong> sends the traffic back to where it was before the ramp.</p>
    </section>

    <section aria-labelledby="charts-title">
      <h2 id="charts-title">Last hour</h2>
      <div class="charts">${domains.map((d) => `
        <figure class="chart"><figcaption>${d}</figcaption><img id="chart-${d}" alt="${d}: traffic split, 5xx per side, p50/p99 per side and shadow match rate over the last hour" width="640" height="404"></figure>`).join('')}
      </div>
    </section>

    <section aria-labelledby="breakers-title">
      <h2 id="breakers-title">Circuit breakers</h2>
      <table id="breakers">
        <thead><tr><th scope="col">Upstream</th><th scope="col">Serves</th><th scope="col">State</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>

    <section aria-labelledby="shadow-title">
      <h2 id="shadow-title">Shadow comparisons</h2>
      <table id="shadow">
        <thead><tr><th scope="col">Domain</th><th scope="col">Compared</th><th scope="col">Match rate</th><th scope="col">Mismatched</th>
        <th scope="col">Errors</th><th scope="col">Skipped</th><th scope="col">Mismatches</th></tr></thead>
        <tbody></tbody>
      </table>
      <div id="mismatches" hidden>
        <h3 id="mismatches-title"></h3>
        <table>
          <thead><tr><th scope="col">When</th><th scope="col">Request</th><th scope="col">Status (monolith / extracted)</th><th scope="col">Changes</th><th scope="col">Diff</th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
      <div id="diff" hidden tabindex="-1">
        <h3 id="diff-title"></h3>
        <div class="diff-sides">
          <figure class="diff-side" id="diff-primary"><figcaption></figcaption><pre></pre></figure>
          <figure class="diff-side" id="diff-candidate"><figcaption></figcaption><pre></pre></figure>
        </div>
        <table id="diff-ops">
          <caption>RFC 6902 operations from the monolith's answer to the service's</caption>
          <thead><tr><th scope="col">Operation</th><th scope="col">Path</th><th scope="col">Service's value</th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
    </section>

    <section aria-labelledby="outbox-title">
      <h2 id="outbox-title">Outbox</h2>
      <table id="outbox">
        <thead><tr><th scope="col">Database</th><th scope="col">Backlog</th><th scope="col">Oldest waiting</th><th scope="col">Lag p50 / p99</th>
        <th scope="col">Retrying</th><th scope="col">Parked</th><th scope="col">Relays</th></tr></thead>
        <tbody></tbody>
      </table>
      <div id="parked" hidden>
        <h3>Parked events</h3>
        <table>
          <thead><tr><th scope="col">Database</th><th scope="col">Event</th><th scope="col">Aggregate</th><th scope="col">Attempts</th><th scope="col">Parked at</th><th scope="col">Last error</th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
    </section>

    <section aria-labelledby="verify-title">
      <h2 id="verify-title">Verify (monolith's rows vs the service's)</h2>
      <table id="verify">
        <thead><tr><th scope="col">Domain</th><th scope="col">Databases</th><th scope="col">Last run</th><th scope="col">Result</th><th scope="col">Run</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
  </main>

  <dialog id="confirm" aria-labelledby="confirm-title">
    <form method="dialog">
      <h2 id="confirm-title">Send all traffic to one side?</h2>
      <p id="confirm-text"></p>
      <div class="dialog-buttons">
        <button value="cancel" type="submit" autofocus>Cancel</button>
        <button value="confirm" type="submit" class="danger" id="confirm-yes">Switch</button>
      </div>
    </form>
  </dialog>
  <noscript><p>The dashboard needs JavaScript (one file served by this gateway). The CLI works without it: <code>npx banyan status</code>.</p></noscript>
</body>
</html>
`;
}
