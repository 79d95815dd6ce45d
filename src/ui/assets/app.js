// lantern's built-in trace viewer. Plain JS, no framework, nothing fetched but this
// server's /ui/api/. Every value from a trace is rendered as text (textContent), never
// as HTML: prompts and headers may hold markup.
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  config: null, seq: null, filterKey: '', timer: null, metricsTimer: null,
  samples: [], view: '', traceId: null, routes: new Set(),
};

// ---- the API, with the key when the server wants one ---------------------------------
async function api(path) {
  const headers = {};
  const key = sessionStorage.getItem('lantern-api-key');
  if (key) headers.Authorization = 'Bearer ' + key;
  const response = await fetch('api/' + path, { headers, cache: 'no-store' });
  if (response.status === 401) {
    $('key-panel').hidden = false;
    if (key) $('key-error').textContent = 'That key was refused.';
    throw new Error('unauthorized');
  }
  if (!response.ok) {
    let message = response.status + ' ' + response.statusText;
    try { message = (await response.json()).error.message; } catch (e) { /* keep */ }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem('lantern-api-key', $('key-input').value);
  $('key-input').value = '';
  $('key-error').textContent = '';
  $('key-panel').hidden = true;
  state.seq = null;
  start();
});

// ---- small helpers ---------------------------------------------------------------------
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}
function ms(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const v = seconds * 1000;
  return v >= 100 ? v.toFixed(0) + ' ms' : v.toFixed(1) + ' ms';
}
function clockTime(startMs) {
  const d = new Date(startMs);
  return d.toLocaleTimeString([], { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}
function attrValue(v) {
  if (!v) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue.values || []).map(attrValue);
  return null;
}
function attrMap(list) {
  const out = {};
  for (const a of list || []) out[a.key] = attrValue(a.value);
  return out;
}
function show(view) {
  for (const name of ['requests', 'trace', 'metrics']) $('view-' + name).hidden = name !== view;
  for (const name of ['requests', 'startup', 'metrics']) $('nav-' + name).classList.remove('active');
  state.view = view;
}

// ---- the request list ------------------------------------------------------------------
function filterQuery() {
  const p = new URLSearchParams();
  p.set('limit', '200');
  if ($('f-route').value) p.set('route', $('f-route').value);
  if ($('f-status').value) p.set('status', $('f-status').value);
  if ($('f-min').value) p.set('min_ms', $('f-min').value);
  if ($('f-q').value.trim()) p.set('q', $('f-q').value.trim().toLowerCase());
  return p.toString();
}

function rowFor(t) {
  const tr = el('tr');
  tr.dataset.traceId = t.trace_id;
  tr.dataset.seq = t.seq;
  const cell = (cls, text, value) => {
    const td = el('td', cls, text);
    if (value !== undefined && value !== null) td.dataset.value = value;
    tr.appendChild(td);
    return td;
  };
  cell('c-time', clockTime(t.start_ms));
  cell('c-request', t.method ? t.method + ' ' + (t.route || t.path) : t.name);
  cell('c-model', t.model);
  const status = cell('c-status', t.status_code || (t.error ? 'error' : ''), t.status_code);
  if (t.status_code >= 400) status.classList.add('status-' + Math.floor(t.status_code / 100));
  cell('c-prompt num', t.requests ? t.prompt_tokens : '', t.requests ? t.prompt_tokens : null);
  cell('c-completion num', t.requests ? t.completion_tokens : '', t.requests ? t.completion_tokens : null);
  cell('c-ttft num', t.ttft_s === null ? '–' : ms(t.ttft_s), t.ttft_s);
  cell('c-e2e num', ms(t.duration_s), t.duration_s);
  const marks = cell('c-marks', '');
  if (t.error) marks.appendChild(el('span', 'mark error', 'error'));
  if (t.aborted) marks.appendChild(el('span', 'mark aborted', 'aborted'));
  if (t.preemptions > 0) marks.appendChild(el('span', 'mark preempted', 'preempted ×' + t.preemptions));
  if (t.remote_parent) marks.appendChild(el('span', 'mark', 'caller context'));
  if (t.startup) marks.appendChild(el('span', 'mark', 'start-up'));
  cell('c-trace', t.trace_id);
  tr.addEventListener('click', () => { location.hash = '#/trace/' + t.trace_id; });
  return tr;
}

async function refreshList() {
  const key = filterQuery();
  if (key !== state.filterKey) { state.filterKey = key; state.seq = null; }
  const since = state.seq === null ? '' : '&since=' + state.seq;
  const data = await api('traces?' + key + since);
  $('conn').textContent = '';
  if (data.unchanged) return;
  state.seq = data.seq;
  const s = data.stats;
  $('ring-stats').textContent = `${s.traces} traces held (at most ${s.max_traces}), ` +
      `${(s.bytes / 1048576).toFixed(1)} of ${(s.max_bytes / 1048576).toFixed(0)} MiB`;
  const rows = document.createDocumentFragment();
  for (const t of data.traces) {
    rows.appendChild(rowFor(t));
    if (t.route && !state.routes.has(t.route)) {
      state.routes.add(t.route);
      $('f-route').appendChild(el('option', null, t.route));
      $('f-route').lastChild.value = t.route;
    }
  }
  $('trace-rows').replaceChildren(rows);
  $('list-count').textContent = data.traces.length + ' shown';
  $('empty').hidden = data.traces.length > 0;
}

function poll(fn, everyMs) {
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try { await fn(); } catch (e) {
        if (e.message !== 'unauthorized') $('conn').textContent = 'server unreachable: ' + e.message;
      }
    }
    if (!stopped) handle = setTimeout(tick, everyMs);
  };
  let handle = setTimeout(tick, 0);
  return () => { stopped = true; clearTimeout(handle); };
}

for (const id of ['f-route', 'f-status', 'f-min', 'f-q']) {
  $(id).addEventListener('input', () => { if (state.view === 'requests') refreshList().catch(() => {}); });
}
$('filters').addEventListener('submit', (e) => e.preventDefault());
$('f-live').addEventListener('change', () => route());

// ---- one trace: the waterfall ----------------------------------------------------------
function otlpSpans(doc) {
  const spans = [];
  for (const rs of doc.resourceSpans || []) {
    const resource = attrMap(rs.resource && rs.resource.attributes);
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) {
        spans.push({ raw: s, resource, scope: ss.scope ? ss.scope.name : '',
          start: BigInt(s.startTimeUnixNano), end: BigInt(s.endTimeUnixNano) });
      }
    }
  }
  return spans;
}

function kindName(kind) {
  return ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'][kind] || String(kind);
}

function renderDetails(span) {
  const box = $('details');
  box.replaceChildren();
  const s = span.raw;
  box.appendChild(el('h3', null, s.name));
  const table = (title, entries) => {
    box.appendChild(el('h4', null, title));
    const t = el('table', 'attrs');
    for (const [k, v] of entries) {
      const tr = el('tr');
      tr.appendChild(el('td', 'mono', k));
      tr.appendChild(el('td', null, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)));
      t.appendChild(tr);
    }
    box.appendChild(t);
  };
  const status = s.status || {};
  table('span', [['trace id', s.traceId], ['span id', s.spanId], ['parent span id', s.parentSpanId || '(root)'],
    ['kind', kindName(s.kind)], ['duration', ms(Number(span.end - span.start) / 1e9)],
    ['status', ['unset', 'ok', 'error'][status.code || 0] + (status.message ? ': ' + status.message : '')],
    ['scope', span.scope]]);
  table('attributes', Object.entries(attrMap(s.attributes)));
  for (const ev of s.events || []) {
    const at = Number(BigInt(ev.timeUnixNano) - span.start) / 1e9;
    table('event ' + ev.name + ' at +' + ms(at), Object.entries(attrMap(ev.attributes)));
  }
  for (const link of s.links || []) {
    table('link to ' + link.traceId + ' / ' + link.spanId, Object.entries(attrMap(link.attributes)));
  }
  table('resource', Object.entries(span.resource));
}

function barClass(span) {
  const s = span.raw;
  if (s.status && s.status.code === 2) return 'bar error';
  if (s.kind === 2) return 'bar server';
  if (['queue', 'prefill', 'decode'].includes(s.name)) return 'bar phase';
  return 'bar';
}

function renderRows(container, ordered, t0, total) {
  const rows = document.createDocumentFragment();
  for (const { span, depth } of ordered) {
    const s = span.raw;
    const row = el('div', 'row');
    row.dataset.spanId = s.spanId;
    row.dataset.parentSpanId = s.parentSpanId || '';
    row.dataset.name = s.name;
    row.dataset.depth = depth;
    row.dataset.startNs = String(span.start - t0);
    row.dataset.durationNs = String(span.end - span.start);
    const label = el('div', 'label', s.name);
    label.style.paddingLeft = (depth * 14) + 'px';
    row.appendChild(label);
    const track = el('div', 'track');
    const bar = el('div', barClass(span));
    const left = Number(span.start - t0) / total * 100;
    const width = Number(span.end - span.start) / total * 100;
    bar.style.left = left + '%';
    bar.style.width = width + '%';
    track.appendChild(bar);
    const dur = el('span', 'dur', ms(Number(span.end - span.start) / 1e9));
    dur.style.left = Math.min(left + width, 92) + '%';
    dur.style.marginLeft = '4px';
    track.appendChild(dur);
    for (const ev of s.events || []) {
      const mark = el('div', 'event');
      mark.title = ev.name;
      mark.dataset.event = ev.name;
      mark.style.left = (Number(BigInt(ev.timeUnixNano) - t0) / total * 100) + '%';
      track.appendChild(mark);
    }
    row.appendChild(track);
    row.addEventListener('click', () => {
      for (const r of document.querySelectorAll('.row.selected')) r.classList.remove('selected');
      row.classList.add('selected');
      renderDetails(span);
    });
    rows.appendChild(row);
  }
  container.replaceChildren(rows);
}

async function showTrace(traceId, title) {
  show('trace');
  state.traceId = traceId;
  $('trace-title').textContent = title || 'trace ' + traceId;
  $('trace-error').hidden = true;
  $('details').replaceChildren(el('p', 'muted', 'Click a span to see all its attributes.'));
  $('waterfall').replaceChildren();
  $('steps').replaceChildren();
  const link = $('trace-link');
  const template = state.config && state.config.trace_url;
  link.hidden = !template;
  if (template && /^https?:\/\//.test(template)) link.href = template.split('{trace_id}').join(traceId);
  let doc;
  try {
    doc = await api('traces/' + encodeURIComponent(traceId));
  } catch (e) {
    $('trace-error').textContent = e.message;
    $('trace-error').hidden = false;
    return;
  }
  if (state.traceId !== traceId) return;
  const all = otlpSpans(doc);
  const spans = all.filter((s) => s.raw.traceId === traceId);
  const steps = all.filter((s) => s.raw.traceId !== traceId);
  const byId = new Map(spans.map((s) => [s.raw.spanId, s]));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    const parent = s.raw.parentSpanId;
    if (parent && byId.has(parent)) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(s);
    } else {
      roots.push(s);
    }
  }
  const byStart = (a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0);
  const ordered = [];
  const walk = (s, depth) => {
    ordered.push({ span: s, depth });
    for (const c of (children.get(s.raw.spanId) || []).sort(byStart)) walk(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) walk(r, 0);
  let t0 = spans[0].start;
  let t1 = spans[0].end;
  for (const s of spans.concat(steps)) {
    if (s.start < t0) t0 = s.start;
    if (s.end > t1) t1 = s.end;
  }
  const total = Math.max(Number(t1 - t0), 1);
  const caller = roots.find((r) => r.raw.parentSpanId);
  $('caller').hidden = !caller;
  if (caller) {
    $('caller').textContent = 'Caller context: parent span ' + caller.raw.parentSpanId +
        ' (from the request\'s traceparent; the caller exports it to its own backend)';
  }
  const root = roots[0];
  $('trace-meta').textContent = spans.length + ' spans, ' + ms(Number(t1 - t0) / 1e9) +
      (root ? ', service ' + (root.resource['service.name'] || '') : '');
  renderRows($('waterfall'), ordered, t0, total);
  $('steps-title').hidden = steps.length === 0;
  renderRows($('steps'), steps.sort(byStart).map((s) => ({ span: s, depth: 0 })), t0, total);
}

// ---- live charts -----------------------------------------------------------------------
function metric(sample, name) { return sample && sample.metrics[name]; }
function delta(a, b, name) {
  const x = metric(a, name);
  const y = metric(b, name);
  if (!x || !y) return null;
  return (y.type === 'histogram' ? y.count - x.count : y.value - x.value);
}
// histogram_quantile over the buckets' increase between two samples.
function quantile(a, b, name, q) {
  const x = metric(a, name);
  const y = metric(b, name);
  if (!x || !y) return null;
  const inc = y.buckets.map((bk, i) => [bk[0], bk[1] - (x.buckets[i] ? x.buckets[i][1] : 0)]);
  const total = inc.length ? inc[inc.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of inc) {
    if (count >= rank) {
      if (le === null) return prevLe;
      return prevLe + (le - prevLe) * ((rank - prevCount) / Math.max(count - prevCount, 1e-9));
    }
    prevLe = le === null ? prevLe : le;
    prevCount = count;
  }
  return prevLe;
}

function drawChart(canvas, series, colors) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width;
  const h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  let max = 0;
  for (const s of series) for (const v of s) if (v !== null && v > max) max = v;
  max = max > 0 ? max * 1.1 : 1;
  ctx.strokeStyle = '#e3e6ec';
  ctx.fillStyle = '#6b7385';
  ctx.font = '11px sans-serif';
  for (let i = 0; i <= 4; i++) {
    const y = 4 + (h - 20) * i / 4;
    ctx.beginPath(); ctx.moveTo(40, y); ctx.lineTo(w, y); ctx.stroke();
    const v = max * (1 - i / 4);
    ctx.fillText(v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(2), 2, y + 4);
  }
  series.forEach((s, k) => {
    ctx.strokeStyle = colors[k];
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let pen = false;
    s.forEach((v, i) => {
      if (v === null) { pen = false; return; }
      const x = 40 + (w - 44) * i / Math.max(s.length - 1, 1);
      const y = 4 + (h - 20) * (1 - v / max);
      if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      pen = true;
    });
    ctx.stroke();
  });
}

async function sampleMetrics() {
  const sample = await api('metrics');
  state.samples.push(sample);
  if (state.samples.length > 121) state.samples.shift();
  const S = state.samples;
  const rate = (name) => S.map((b, i) => {
    if (i === 0) return null;
    const d = delta(S[i - 1], b, name);
    const dt = (b.time_unix_ms - S[i - 1].time_unix_ms) / 1000;
    return d === null || dt <= 0 ? null : d / dt;
  });
  const windowed = (name, q) => S.map((b, i) => (i === 0 ? null : quantile(S[Math.max(0, i - 10)], b, name, q)));
  const gauge = (name, scale) => S.map((b) => { const m = metric(b, name); return m ? m.value * scale : null; });
  const colors = ['#2b6cb0', '#dd6b20', '#c53030'];
  drawChart($('c-rps'), [rate('lantern:e2e_request_latency_seconds')], colors);
  drawChart($('c-tps'), [rate('lantern:prompt_tokens_total'), rate('lantern:generation_tokens_total')], colors);
  const ttft = 'lantern:time_to_first_token_seconds';
  drawChart($('c-ttft'), [windowed(ttft, 0.5), windowed(ttft, 0.9), windowed(ttft, 0.99)], colors);
  const itl = 'lantern:inter_token_latency_seconds';
  drawChart($('c-itl'), [windowed(itl, 0.5), windowed(itl, 0.9), windowed(itl, 0.99)], colors);
  drawChart($('c-queue'), [gauge('lantern:num_requests_running', 1), gauge('lantern:num_requests_waiting', 1)], colors);
  drawChart($('c-kv'), [gauge('lantern:kv_cache_usage_perc', 100)], colors);
}

// ---- navigation: #/, #/trace/<id>, #/startup, #/metrics --------------------------------
function stopTimers() {
  if (state.timer) { state.timer(); state.timer = null; }
  if (state.metricsTimer) { state.metricsTimer(); state.metricsTimer = null; }
}

async function route() {
  stopTimers();
  const hash = location.hash || '#/';
  if (hash.startsWith('#/trace/')) {
    showTrace(decodeURIComponent(hash.slice(8)).toLowerCase());
  } else if (hash === '#/startup') {
    show('trace');
    $('nav-startup').classList.add('active');
    const id = state.config && state.config.startup_trace_id;
    if (id) {
      await showTrace(id, 'start-up trace');
      $('nav-startup').classList.add('active');
    } else {
      $('trace-title').textContent = 'start-up trace';
      $('waterfall').replaceChildren();
      $('trace-error').textContent = 'The start-up trace is not held (it was not sampled).';
      $('trace-error').hidden = false;
    }
  } else if (hash === '#/metrics') {
    show('metrics');
    $('nav-metrics').classList.add('active');
    state.metricsTimer = poll(sampleMetrics, 1000);
  } else {
    show('requests');
    $('nav-requests').classList.add('active');
    state.seq = null;
    if ($('f-live').checked) state.timer = poll(refreshList, 1000);
    else refreshList().catch(() => {});
  }
}

async function start() {
  try {
    state.config = await api('config');
  } catch (e) {
    if (e.message !== 'unauthorized') $('conn').textContent = 'server unreachable: ' + e.message;
    return;
  }
  route();
}

window.addEventListener('hashchange', () => { if (state.config) route(); });
start();
