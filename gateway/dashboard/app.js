// The dashboard's only script: plain browser JavaScript, served by the gateway, no build step.
// Everything it shows comes from the admin API with the token; it never writes HTML from data
// (textContent only), because shadow bodies are whatever an upstream answered.
'use strict';

(() => {
  const TOKEN_KEY = 'banyan.adminToken';
  const REFRESH_MS = 2000;
  const $ = (selector, root = document) => root.querySelector(selector);

  let token = sessionStorage.getItem(TOKEN_KEY);
  let timer = null;
  let generation = 0;
  let shadowDomain = null;
  let mismatchesKey = '';
  let mismatches = [];
  const dirty = new Set();
  const problems = new Map();

  /** An element with properties and children; strings become text nodes, never markup. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  const rate = (n) => (n >= 10 ? n.toFixed(0) : n.toFixed(1));
  const percent = (ratio) => (ratio === null || ratio === undefined ? '–' : `${(ratio * 100).toFixed(1)} %`);
  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '–');
  const seconds = (s) => (s === null || s === undefined ? '–' : s < 60 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`);
  const millis = (ms) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`);
  const traceId = (traceparent) => (traceparent ? traceparent.split('-')[1] || traceparent : '–');

  /** A problem document as one line: its detail, or each invalid field when it lists them. */
  const problemText = (status, problem) => {
    const text = (problem && (problem.detail || problem.title)) || `HTTP ${status}`;
    const fields = problem && Array.isArray(problem.errors) ? problem.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)) : [];
    // A validation problem's detail only says "see errors": the fields are the message.
    return fields.length ? fields.join('; ') : text;
  };

  class ApiError extends Error {
    constructor(status, problem) {
      super(problemText(status, problem));
      this.status = status;
      this.problem = problem;
    }
  }

  async function api(method, path, body) {
    let res;
    try {
      res = await fetch(path, {
        method,
        cache: 'no-store',
        credentials: 'omit',
        headers: {
          authorization: `Bearer ${token}`,
          'x-banyan-actor': 'dashboard',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, { detail: `Cannot reach the gateway admin API at ${location.origin}. Retrying every ${REFRESH_MS / 1000} s.` });
    }
    const type = res.headers.get('content-type') || '';
    const data = type.includes('json') ? await res.json() : await res.text();
    if (res.status === 401) {
      signOut('The gateway refused this token. Enter the BANYAN_ADMIN_TOKEN the gateway was started with.');
      throw new ApiError(401, data);
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  // ---- the banner: what is wrong right now, one line per cause ----
  function problem(key, message) {
    if (message) problems.set(key, message);
    else problems.delete(key);
    const banner = $('#banner');
    banner.replaceChildren(...[...problems.values()].map((m) => el('p', { text: m })));
    banner.hidden = problems.size === 0;
  }

  // ---- signing in and out ----
  function signOut(message) {
    token = null;
    generation++;
    sessionStorage.removeItem(TOKEN_KEY);
    clearTimeout(timer);
    problems.clear();
    problem('none', null);
    $('#dashboard').hidden = true;
    $('#sign-out').hidden = true;
    $('#login').hidden = false;
    $('#login-message').textContent = message || '';
    $('#token').focus();
  }

  async function signIn(candidate) {
    token = candidate;
    try {
      await api('GET', '/routes');
    } catch (err) {
      if (err.status !== 401) $('#login-message').textContent = err.message;
      token = null;
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, candidate);
    $('#login').hidden = true;
    $('#dashboard').hidden = false;
    $('#sign-out').hidden = false;
    generation++;
    refresh(generation);
  }

  // ---- routes ----
  function renderRoutes(body) {
    problem('routing-db', body.source === 'database' ? null : "The gateway's routing database is unreachable: it keeps serving the last known table, and refuses changes until the database is back.");
    for (const route of body.routes) {
      const row = $(`#route-${route.domain}`);
      if (!row) continue;
      const mode = describeMode(route);
      const cell = $('[data-field="mode"]', row);
      cell.replaceChildren(el('span', { class: `badge mode-${route.mode}`, text: mode }), el('span', { class: 'muted', text: ` v${route.version}` }));
      // Route rules (ADR 0213): each has its own form in the Change cell, like `banyan route <domain> --rule`.
      for (const rule of route.rules ?? []) {
        const own = rule.mode === 'inherit' ? `inherit (${describeMode(rule.effective)})` : describeMode(rule);
        cell.append(el('div', { class: 'muted rule', text: `${rule.method} ${rule.path}: ${own}${rule.fenced ? ', fenced' : ''}` }));
        const form = $(`form[data-rule="${rule.rule}"]`, row);
        if (!form) continue;
        $('[data-field="rule-what"]', form).textContent = `rule ${rule.rule}: ${rule.method} ${rule.path}`;
        if (!dirty.has(formKey(form))) showMode(form, rule);
      }
      cell.title = route.updatedBy ? `changed by ${route.updatedBy} at ${new Date(route.updatedAt).toLocaleString()}` : '';
      $('[data-field="targets"]', row).replaceChildren(
        el('div', {}, el('span', { class: 'side', text: 'monolith ' }), el('code', { text: route.targets.monolith })),
        el('div', {}, el('span', { class: 'side', text: 'extracted ' }), el('code', { text: route.targets.extracted })),
      );
      row.dataset.mode = route.mode;
      row.dataset.percent = String(route.percent);
      row.dataset.extracted = route.targets.extracted;
      const form = $('form:not([data-rule])', row);
      if (!dirty.has(formKey(form))) showMode(form, route);
    }
  }

  const describeMode = (row) => (row.mode === 'canary' ? `canary ${row.percent} %` : row.mode);
  /** A domain's form is keyed by its domain, a rule's by domain/rule. */
  const formKey = (form) => (form.dataset.rule ? `${form.dataset.domain}/${form.dataset.rule}` : form.dataset.domain);

  /** Never called while the operator is in the middle of choosing (`dirty`): that would overwrite it. */
  function showMode(form, route) {
    form.mode.value = route.mode;
    if (route.mode === 'canary') form.percent.value = String(route.percent);
    form.percent.disabled = route.mode !== 'canary';
  }

  function confirmSwitch(text, title = 'Send all traffic to one side?') {
    const dialog = $('#confirm');
    $('#confirm-title').textContent = title;
    $('#confirm-text').textContent = text;
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
      dialog.returnValue = '';
      dialog.showModal();
    });
  }

  /**
   * Apply a domain's or a route rule's form: one flow for both, through `PUT /routes/:domain` or
   * `PUT /routes/:domain/rules/:rule`, which share the admin API's checks.
   */
  async function applyRoute(form) {
    const { domain, rule } = form.dataset;
    const row = $(`#route-${domain}`);
    const what = rule ? `${domain} rule ${rule}` : domain;
    const path = rule ? `/routes/${domain}/rules/${rule}` : `/routes/${domain}`;
    const message = $('[data-field="message"]', form);
    const mode = form.mode.value;
    const change = mode === 'inherit' ? { inherit: true } : { mode };
    if (mode === 'canary') {
      const value = Number(form.percent.value);
      if (!Number.isInteger(value) || value < 0 || value > 100) {
        message.textContent = 'The percent must be a whole number from 0 to 100.';
        return;
      }
      change.percent = value;
    }
    // A switch that sends every request of a domain (or rule) to the service is the one to pause
    // over; a rule inheriting an all-extracted domain is one too.
    const after = change.inherit ? { mode: row.dataset.mode, percent: Number(row.dataset.percent) } : { mode, percent: change.percent };
    if (after.mode === 'extracted' || (after.mode === 'canary' && after.percent === 100)) {
      const ok = await confirmSwitch(`Send 100 % of ${what} traffic to the extracted service (${row.dataset.extracted})? Reads fall back to the monolith if it fails; writes do not.`);
      if (!ok) {
        message.textContent = 'Not changed.';
        return;
      }
    }
    message.textContent = 'Saving…';
    try {
      let result;
      try {
        result = await api('PUT', path, change);
      } catch (err) {
        // The preflight refused the side traffic would move to: show every failed check, and let
        // the operator switch anyway (sent with force, audited as forced).
        if (err.status !== 409 || !err.problem || err.problem.code !== 'GATEWAY.PREFLIGHT_FAILED') throw err;
        const failed = err.problem.checks.filter((c) => !c.ok).map((c) => `• ${c.check}: ${c.detail}`);
        const ok = await confirmSwitch(`The preflight of ${what} → ${err.problem.side} failed:\n${failed.join('\n')}\nSwitch anyway? The change is audited as forced.`, 'Preflight failed');
        if (!ok) {
          message.textContent = `Not changed: preflight failed (${failed.length === 1 ? failed[0].slice(2) : `${failed.length} checks`}).`;
          return;
        }
        result = await api('PUT', path, { ...change, force: true });
      }
      dirty.delete(formKey(form));
      message.textContent = result.changed ? `Now ${describeMode(change.inherit ? { mode: 'inherit' } : change)}.` : 'Already so.';
      // A rule's answer is the rule alone; the row (its effective mode, the domain's) is read again.
      renderRoutes(rule ? await api('GET', '/routes') : { source: 'database', routes: [result.route] });
    } catch (err) {
      if (err.status !== 401) message.textContent = `Not changed: ${err.message}`;
    }
  }

  // ---- traffic, breakers, shadow ----
  function renderStats(stats) {
    for (const [domain, d] of Object.entries(stats.domains)) {
      const row = $(`#route-${domain}`);
      if (!row) continue;
      for (const side of ['monolith', 'extracted']) {
        const s = d[side];
        const cell = $(`[data-field="${side}-rate"]`, row);
        cell.replaceChildren(
          el('span', { class: 'rate', text: `${rate(s.requestsPerSecond)}/s` }),
          el('span', { class: s.errorsPerSecond > 0 ? 'error-rate bad' : 'error-rate', text: ` · ${percent(s.errorRate)}` }),
        );
        cell.title = `${rate(s.errorsPerSecond)} 5xx/s; ${rate(s.upstreamFailuresPerSecond)} upstream failures/s` + (side === 'extracted' ? `; ${rate(d.fallbacksPerSecond)} fallbacks/s to the monolith` : '');
      }
    }
    $('#rates-window').textContent = `Rates over the last ${stats.windowSeconds.toFixed(0)} s: answers per second, and the share that were 5xx. Hover a cell for upstream failures and fallbacks.`;

    $('#breakers tbody').replaceChildren(
      ...stats.breakers.map((b) =>
        el('tr', {},
          el('th', { scope: 'row' }, el('code', { text: b.url })),
          el('td', { text: b.domains.length === Object.keys(stats.domains).length ? 'every domain (monolith)' : b.domains.join(', ') }),
          el('td', {}, el('span', { class: `badge breaker-${b.state}`, text: b.used ? b.state : `${b.state} (no traffic yet)` })),
        ),
      ),
    );

    const shadowRows = Object.entries(stats.domains)
      .filter(([domain, d]) => d.shadow.compared + d.shadow.errors + d.shadow.skipped > 0 || $(`#route-${domain}`).dataset.mode === 'shadow')
      .map(([domain, d]) =>
        el('tr', { class: domain === shadowDomain ? 'selected' : null },
          el('th', { scope: 'row', text: domain }),
          el('td', { class: 'num', text: String(d.shadow.compared) }),
          el('td', { class: 'num' }, el('span', { class: d.shadow.matchRate !== null && d.shadow.matchRate < 1 ? 'bad' : 'good', text: percent(d.shadow.matchRate) })),
          el('td', { class: 'num', text: String(d.shadow.mismatched) }),
          el('td', { class: 'num', text: String(d.shadow.errors) }),
          el('td', { class: 'num', text: String(d.shadow.skipped) }),
          el('td', {}, el('button', { type: 'button', onclick: () => selectShadow(domain), text: `Mismatches of ${domain}`, disabled: d.shadow.mismatched === 0 })),
        ),
      );
    $('#shadow tbody').replaceChildren(...(shadowRows.length ? shadowRows : [el('tr', {}, el('td', { colspan: 7, class: 'muted', text: 'No domain is in shadow mode. Set one to shadow to compare its service with the monolith on real traffic.' }))]));
  }

  function selectShadow(domain) {
    shadowDomain = domain;
    mismatchesKey = '';
    $('#diff').hidden = true;
    loadMismatches(generation);
  }

  async function loadMismatches(gen) {
    if (!shadowDomain) return;
    const report = await api('GET', `/shadow/${shadowDomain}`);
    if (gen !== generation) return;
    const key = `${shadowDomain}|${report.mismatched}|${report.mismatches.length}`;
    // Re-render only when something new arrived, so the list does not jump while being read.
    if (key === mismatchesKey) return;
    mismatchesKey = key;
    mismatches = report.mismatches;
    $('#mismatches').hidden = false;
    $('#mismatches-title').textContent = `Latest mismatches of ${shadowDomain} (${report.mismatches.length} kept of ${report.mismatched})`;
    $('#mismatches tbody').replaceChildren(
      ...mismatches.map((m, i) =>
        el('tr', {},
          el('td', { text: time(m.at) }),
          el('td', {}, el('code', { text: `${m.method} ${m.path}` })),
          el('td', { class: m.statusMatch ? null : 'bad', text: `${m.primary.status} / ${m.candidate.status}` }),
          el('td', { class: 'num', text: String(m.diff.length) }),
          el('td', {}, el('button', { type: 'button', onclick: () => showDiff(i), text: 'Show diff' })),
        ),
      ),
    );
  }

  // ---- the side-by-side diff ----
  const pointerPart = (key) => String(key).replace(/~/g, '~0').replace(/\//g, '~1');

  /** Pretty-printed JSON as lines, each knowing the JSON pointer of the value it shows. */
  function jsonLines(value, pointer = '', indent = 0, key = null, last = true, out = []) {
    const pad = '  '.repeat(indent);
    const label = key === null ? '' : `${JSON.stringify(key)}: `;
    const comma = last ? '' : ',';
    if (value !== null && typeof value === 'object') {
      const isArray = Array.isArray(value);
      const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
      const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
      if (entries.length === 0) {
        out.push({ pointer, text: `${pad}${label}${open}${close}${comma}` });
        return out;
      }
      out.push({ pointer, text: `${pad}${label}${open}` });
      entries.forEach(([k, v], i) => jsonLines(v, `${pointer}/${pointerPart(k)}`, indent + 1, isArray ? null : k, i === entries.length - 1, out));
      out.push({ pointer, text: `${pad}${close}${comma}`, closing: true });
      return out;
    }
    out.push({ pointer, text: `${pad}${label}${JSON.stringify(value)}${comma}` });
    return out;
  }

  const touches = (pointer, paths) => paths.some((p) => pointer === p || pointer.startsWith(`${p}/`));

  function renderSide(figure, exchange, caption, changed, statusChanged) {
    $('figcaption', figure).replaceChildren(
      el('strong', { text: caption }),
      el('span', { class: statusChanged ? 'bad' : null, text: ` · status ${exchange.status}` }),
      el('br'),
      el('span', { class: 'muted', text: 'request id ' }), el('code', { text: exchange.requestId || '–' }),
      el('br'),
      el('span', { class: 'muted', text: 'trace id ' }), el('code', { text: traceId(exchange.traceparent), title: exchange.traceparent || '' }),
    );
    const lines = typeof exchange.body === 'string' ? exchange.body.split('\n').map((text) => ({ pointer: '', text })) : jsonLines(exchange.body);
    const bodyChanged = typeof exchange.body === 'string' ? changed.length > 0 : false;
    $('pre', figure).replaceChildren(
      ...lines.map((line) => el('span', { class: touches(line.pointer, changed) || bodyChanged ? 'line changed' : 'line', 'data-pointer': line.pointer, text: `${line.text}\n` })),
    );
  }

  function showDiff(index) {
    const m = mismatches[index];
    if (!m) return;
    // The diff turns the monolith's answer into the service's: what it removes or replaces is
    // highlighted on the left, what it adds or replaces on the right.
    const left = m.diff.filter((op) => op.op === 'remove' || op.op === 'replace').map((op) => op.path)
      .concat(m.diff.filter((op) => op.op === 'move').map((op) => op.from));
    const right = m.diff.filter((op) => ['add', 'replace', 'copy', 'move'].includes(op.op)).map((op) => op.path);
    $('#diff-title').textContent = `${m.method} ${m.path} at ${new Date(m.at).toLocaleString()}`;
    renderSide($('#diff-primary'), m.primary, 'Monolith (answered the client)', left, !m.statusMatch);
    renderSide($('#diff-candidate'), m.candidate, 'Extracted service (shadow copy)', right, !m.statusMatch);
    $('#diff-ops tbody').replaceChildren(
      ...(m.diff.length
        ? m.diff.map((op) => el('tr', {}, el('td', { text: op.op }), el('td', {}, el('code', { text: op.path === '' ? '(whole body)' : op.path })), el('td', {}, el('code', { text: 'value' in op ? JSON.stringify(op.value) : op.from ? `from ${op.from}` : '–' }))))
        : [el('tr', {}, el('td', { colspan: 3, class: 'muted', text: 'Equal bodies: only the status differs.' }))]),
    );
    const diff = $('#diff');
    diff.hidden = false;
    diff.focus();
  }

  // ---- outbox ----
  function renderOutbox(body) {
    const parked = [];
    $('#outbox tbody').replaceChildren(
      ...body.databases.map((entry) => {
        const name = el('th', { scope: 'row' }, el('code', { text: entry.database }));
        if (entry.status !== 'ok') {
          const text = entry.status === 'unreachable' ? `unreachable: ${entry.error}` : entry.status;
          return el('tr', { class: 'inactive' }, name, el('td', { colspan: 6, class: entry.status === 'unreachable' ? 'bad' : 'muted', text }));
        }
        const r = entry.report;
        for (const p of r.parked) parked.push([entry.database, p]);
        return el('tr', {},
          name,
          el('td', { class: 'num', text: String(r.backlog) }),
          el('td', { class: 'num', text: seconds(r.oldestUnpublishedAgeSeconds) }),
          el('td', { class: 'num', text: r.lagMs ? `${millis(r.lagMs.p50)} / ${millis(r.lagMs.p99)}` : '–' }),
          el('td', { class: 'num', text: String(r.retrying) }),
          el('td', { class: r.parked.length ? 'num bad' : 'num', text: String(r.parked.length) }),
          el('td', { text: r.relays.length ? r.relays.map((x) => `${x.instance} (${x.partitions})`).join(', ') : 'none running' }),
        );
      }),
    );
    $('#parked').hidden = parked.length === 0;
    $('#parked tbody').replaceChildren(
      ...parked.map(([database, p]) =>
        el('tr', {},
          el('td', {}, el('code', { text: database })),
          el('td', {}, el('code', { text: p.type }), el('br'), el('span', { class: 'muted', text: p.id })),
          el('td', {}, el('code', { text: p.aggregateId })),
          el('td', { class: 'num', text: String(p.attempts) }),
          el('td', { text: new Date(p.parkedAt).toLocaleString() }),
          el('td', { text: p.lastError || '–' }),
        ),
      ),
    );
  }

  // ---- verify ----
  function renderVerify(body) {
    $('#verify tbody').replaceChildren(
      ...body.domains.map((domain) => {
        const r = body.results[domain];
        const running = body.running.includes(domain);
        let result = el('span', { class: 'muted', text: 'not run yet' });
        if (r && r.error) result = el('span', { class: 'bad', text: `could not compare: ${r.error}` });
        else if (r) {
          const detail = r.sample.map((d) => `${d.table} ${d.key}: ${d.kind}${d.columns ? ` (${Object.keys(d.columns).join(', ')})` : ''}`).join('\n');
          result = el('span', { class: r.differences ? 'bad' : 'good', title: detail, text: `${r.compared} rows compared, ${r.differences} difference${r.differences === 1 ? '' : 's'}` });
        }
        return el('tr', {},
          el('th', { scope: 'row', text: domain }),
          el('td', {}, r ? el('code', { text: `${r.source} → ${r.target}` }) : el('span', { class: 'muted', text: '–' })),
          el('td', { text: r ? new Date(r.finishedAt).toLocaleString() : '–' }),
          el('td', {}, result),
          el('td', {}, el('button', { type: 'button', disabled: running, 'aria-label': `Run verify for ${domain}`, onclick: (e) => runVerify(domain, e.target), text: running ? 'Running…' : 'Run verify' })),
        );
      }),
    );
  }

  async function runVerify(domain, button) {
    button.disabled = true;
    button.textContent = 'Running…';
    problem('verify', null);
    try {
      await api('POST', `/verify/${domain}`);
      renderVerify(await api('GET', '/verify'));
    } catch (err) {
      if (err.status !== 401) problem('verify', `verify ${domain}: ${err.message}`);
    }
  }

  // ---- ramps: steps with their verdicts ----
  const stepName = (s) => (s === 'shadow' ? 'shadow' : `${s} %`);
  function renderRamps(body) {
    const items = body.items.slice(0, 5);
    $('#ramps tbody').replaceChildren(
      ...(items.length ? [] : [el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'No ramp yet.' }))]),
      ...items.map((r) =>
        el('tr', { 'data-ramp': r.id },
          el('th', { scope: 'row', text: String(r.id) }),
          el('td', { text: r.key.replace('#', ' rule ') }),
          el('td', {}, r.status, r.status === 'running' ? [' ', el('button', { type: 'button', 'aria-label': `Abort ramp ${r.id}`, onclick: (e) => abortRamp(r.id, e.target), text: 'Abort' })] : null),
          el('td', {}, r.steps.map((s, i) => {
            const v = r.verdicts[i];
            const outcome = v ? v.outcome : i === r.stepIndex && r.status === 'running' ? 'current' : 'pending';
            const f = v && v.figures && v.figures.new;
            const title = v ? [outcome, ...(v.reasons || []), f ? `new side: ${f.requests} requests, errors ${percent(f.errorRate)}, p99 ${f.p99Ms === null ? '–' : millis(f.p99Ms)}` : ''].filter(Boolean).join('\n') : outcome;
            return el('span', { class: `step ${outcome}`, title, text: `${stepName(s)} ${outcome === 'passed' ? '✓' : outcome === 'current' ? '…' : outcome === 'pending' ? '' : '✗'}`.trim() });
          })),
          el('td', { text: `${r.holdMs / 1000} s` }),
          el('td', { text: r.status === 'running' ? (r.leaseOwner || 'waiting for a driver') : (r.reason || '') }),
        )),
    );
  }

  const DURATION_UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  /** The CLI's `--steps`, `--hold` and gate flags' formats (packages/cli/src/commands/ramp.ts), with its messages. */
  function rampRequest(form) {
    const steps = form.steps.value.split(',').map((s) => s.trim()).map((s) => (s === 'shadow' ? s : Number(s)));
    if (steps.some((s) => s !== 'shadow' && (!Number.isInteger(s) || s < 1 || s > 100))) {
      throw new Error('steps: percents from 1 to 100 separated by commas, optionally starting with shadow: shadow,1,5,25,50,100.');
    }
    const holdMs = durationArg(form.hold.value);
    if (holdMs === undefined) throw new Error('hold: a duration with its unit: 500ms, 30s, 2m, 1h.');
    const thresholds = {};
    for (const [field, key, label, parse, expected] of GATES) {
      const value = form[field].value.trim();
      if (value === '') continue;
      const parsed = parse(value);
      if (parsed === undefined) throw new Error(`${label}: ${expected}`);
      thresholds[key] = parsed;
    }
    const [domain, rule] = form.key.value.split('/');
    return { domain, ...(rule ? { rule } : {}), steps, holdMs, thresholds };
  }
  function durationArg(value) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
    return m ? Math.round(Number(m[1]) * DURATION_UNITS[m[2]]) : undefined;
  }
  function rateArg(value) {
    const digits = value.endsWith('%') ? value.slice(0, -1) : value;
    const n = digits.trim() === '' ? NaN : Number(digits) / (value.endsWith('%') ? 100 : 1);
    return Number.isFinite(n) && n >= 0 && n <= 1 ? n : undefined;
  }
  function ratioArg(value) {
    const n = Number(value);
    return Number.isFinite(n) && n >= 1 ? n : undefined;
  }
  function countArg(value) {
    const n = Number(value);
    return Number.isInteger(n) && n >= 1 && n <= 1_000_000 ? n : undefined;
  }
  // [form field, API threshold, label, parser, what it takes]: the CLI's flags and their messages.
  const GATES = [
    ['maxErrorRate', 'maxErrorRate', 'max error rate', rateArg, 'a rate from 0 to 1, or a percent: 0.01 or 1%.'],
    ['maxP99Ratio', 'maxP99Ratio', 'max p99 ratio', ratioArg, 'a ratio of 1 or more: 2 lets the new side be twice as slow.'],
    ['p99Floor', 'p99FloorMs', 'p99 floor', durationArg, 'a duration with its unit: 500ms, 30s, 2m, 1h.'],
    ['maxMismatchRate', 'maxMismatchRate', 'max shadow mismatch', rateArg, 'a rate from 0 to 1, or a percent: 0.01 or 1%.'],
    ['maxLag', 'maxLagMs', 'max sync lag', durationArg, 'a duration with its unit: 500ms, 30s, 2m, 1h.'],
    ['minRequests', 'minRequests', 'min requests', countArg, 'a whole number from 1 to 1000000.'],
  ];

  async function startRamp(form) {
    const message = $('#ramp-message');
    let request;
    try {
      request = rampRequest(form);
    } catch (err) {
      message.textContent = `Not started: ${err.message}`;
      return;
    }
    // No confirmation, unlike a switch to 100 %: every step runs its preflight and gates and rolls
    // back by itself, and Abort is one click away.
    message.textContent = 'Starting…';
    try {
      const ramp = await api('POST', '/ramps', request);
      message.textContent = `Ramp ${ramp.id} started: ${ramp.steps.map(stepName).join(' → ')}, holding ${seconds(ramp.holdMs / 1000)} each.`;
      renderRamps(await api('GET', '/ramps'));
    } catch (err) {
      if (err.status !== 401) message.textContent = `Not started: ${err.message}`;
    }
  }

  /** No confirmation: like going back to monolith, stopping a ramp is the way out of trouble. */
  async function abortRamp(id, button) {
    const message = $('#ramp-message');
    button.disabled = true;
    try {
      const ramp = await api('POST', `/ramps/${id}/abort`);
      message.textContent = `Ramp ${id} aborted: ${ramp.key.replace('#', ' rule ')} is back where it was before the ramp.`;
      renderRamps(await api('GET', '/ramps'));
    } catch (err) {
      button.disabled = false;
      if (err.status !== 401) message.textContent = `Not aborted: ${err.message}`;
    }
  }

  // ---- charts: SVGs drawn by the gateway, fetched with the token, shown from blob: URLs ----
  let chartTurn = 0;
  async function loadCharts() {
    // Every fifth refresh (10 s): an hour's chart moves one sample per 30 s.
    if (chartTurn++ % 5 !== 0) return;
    await Promise.all(
      [...document.querySelectorAll('.chart img')].map(async (img) => {
        const svg = await api('GET', `/charts/${img.id.slice('chart-'.length)}`);
        const previous = img.src;
        img.src = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
        if (previous.startsWith('blob:')) URL.revokeObjectURL(previous);
      }),
    );
  }

  // ---- the 2 s loop ----
  async function refresh(gen) {
    if (gen !== generation || !token) return;
    const tasks = [
      ['routes', () => api('GET', '/routes').then(renderRoutes)],
      ['stats', () => api('GET', '/stats').then(renderStats)],
      ['outbox', () => api('GET', '/outbox').then(renderOutbox)],
      ['verify-list', () => api('GET', '/verify').then(renderVerify)],
      ['mismatches', () => loadMismatches(gen)],
      ['ramps', () => api('GET', '/ramps').then(renderRamps)],
      ['charts', loadCharts],
    ];
    const results = await Promise.allSettled(tasks.map(([, run]) => run()));
    if (gen !== generation || !token) return;
    const unreachable = results.find((r) => r.status === 'rejected' && r.reason.status === 0);
    problem('network', unreachable ? unreachable.reason.message : null);
    results.forEach((r, i) => {
      if (unreachable) return;
      const key = tasks[i][0];
      problem(key, r.status === 'rejected' && r.reason.status !== 401 ? `${key}: ${r.reason.message}` : null);
    });
    $('#refreshed').textContent = `Updated ${new Date().toLocaleTimeString()} · every ${REFRESH_MS / 1000} s`;
    timer = setTimeout(() => refresh(gen), REFRESH_MS);
  }

  // ---- wiring ----
  document.addEventListener('DOMContentLoaded', () => {
    $('#login-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $('#token');
      const value = input.value.trim();
      input.value = '';
      if (value) signIn(value);
    });
    $('#sign-out').addEventListener('click', () => signOut('Signed out.'));
    for (const form of document.querySelectorAll('.route-form')) {
      form.addEventListener('input', () => {
        dirty.add(formKey(form));
        form.percent.disabled = form.mode.value !== 'canary';
      });
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        applyRoute(form);
      });
    }
    $('#ramp-form').addEventListener('submit', (event) => {
      event.preventDefault();
      startRamp(event.target);
    });
    if (token) signIn(token);
    else $('#token').focus();
  });
})();
