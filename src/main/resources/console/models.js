// The models page: GET /v1/models (and the repository index for versions still loading), refreshed every few seconds.
import { api, boot, el, fmt, plural } from './api.js';

const REFRESH_MS = 3000;
let shape = '';

function signature(tensors) {
  return el('div', { class: 'scroll' }, el('table', {},
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Name'), el('th', { scope: 'col' }, 'Type'),
      el('th', { scope: 'col' }, 'Shape'))),
    el('tbody', {}, (tensors || []).map(t => el('tr', {}, el('td', {}, el('code', {}, t.name)),
      el('td', {}, t.datatype), el('td', {}, '[' + (t.shape || []).join(', ') + ']'))))));
}

function facts(pairs) {
  return el('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

function mean(xs) {
  return Array.isArray(xs) && xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : (typeof xs === 'number' ? xs : null);
}

/** Test metrics against the baselines: the mean over the horizon of each metric, one row per forecaster. */
function metrics(m) {
  if (!m || typeof m !== 'object' || !m.model) return null;
  const names = Object.keys(m.model);
  const rows = [['this model', m.model], ...Object.entries(m.baselines || {})];
  return el('div', { class: 'scroll' }, el('table', {},
    el('caption', { class: 'muted' }, 'Test set, mean over the horizon'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Forecaster'),
      names.map(n => el('th', { scope: 'col' }, n.toUpperCase())))),
    el('tbody', {}, rows.map(([who, vals]) => el('tr', {}, el('th', { scope: 'row' }, who.replace(/_/g, ' ')),
      names.map(n => el('td', {}, fmt(mean(vals[n])))))))));
}

function live(m) {
  const l = m.live || {};
  const box = (key, label, value) => el('div', {}, el('div', { class: 'v', 'data-live': key }, value), el('div', { class: 'k' }, label));
  return el('div', { class: 'live', 'aria-label': 'Live figures, last few seconds' },
    box('requests_per_second', 'requests/s', fmt(l.requests_per_second, 3)),
    box('latency_p50_ms', 'p50 ms', fmt(l.latency_p50_ms, 3)),
    box('latency_p99_ms', 'p99 ms', fmt(l.latency_p99_ms, 3)),
    box('mean_batch_size', 'mean batch', fmt(l.mean_batch_size, 3)),
    box('queue_depth', 'queue', fmt(l.queue_depth)));
}

function advice(m) {
  if (m.state === 'FAILED') {
    return ['Fix or replace the file named above: ', el('code', {}, 'lstmcast inspect FILE'), ' says what is wrong with it, and ',
      el('code', {}, 'lstmcast convert'), ' rewrites Keras, DL4J and time-major models into files this server reads. ',
      'The server tries again by itself as soon as the file changes.'];
  }
  if (m.state === 'LOADING') return 'The file is being loaded; this page updates by itself.';
  if (m.state === 'UNLOADED') return 'Not loaded yet: it loads on its first request (the server keeps at most --max-loaded models loaded).';
  return ['Not loaded: ', el('code', {}, `POST /v2/repository/models/${m.name}/load`), ' loads it (explicit model control).'];
}

function card(m) {
  const id = `m-${m.name}-${m.version}`;
  const head = el('div', { class: 'card-head' },
    el('h2', { id }, m.name, el('span', { class: 'muted' }, ' version ' + m.version)),
    el('span', { class: 'badge ' + m.state, 'data-state': m.state }, m.state));
  const c = el('article', { class: 'card model', 'aria-labelledby': id, 'data-model': m.name, 'data-version': m.version }, head);
  if (m.state !== 'READY') {
    if (m.reason) c.append(el('p', { class: 'failure reason' }, m.reason));
    c.append(el('p', { class: 'advice' }, el('strong', {}, 'What to do: '), advice(m)));
    return c;
  }
  const f = m.forecast;
  const lin = m.lineage || {};
  c.append(facts([['Execution provider', m.execution_provider]]));
  if (f) {
    c.append(el('h3', {}, 'Forecast settings'), facts([
      ['Lookback', f.lookback === 0 ? 'any length' : f.lookback], ['Horizon', f.horizon],
      ['Features', (f.features || []).join(', ')], ['Target', f.target], ['Transform', f.transform],
      ['Season', lin.season], ['Network', lin.network], ['Fitted on', lin.fitted_on], ['Layout', f.layout],
      ['Intervals', (f.interval_levels || []).length ? f.interval_levels.map(l => l + '%').join(', ') : 'none']]));
    c.append(el('p', {}, el('a', { class: 'button', href: '/models/' + encodeURIComponent(m.name) }, 'Forecast with ' + m.name)));
  } else {
    c.append(el('p', { class: 'muted' }, 'Not a forecaster (' + (m.forecast_unavailable || 'no forecast settings')
      + '); it serves the Open Inference Protocol: POST /v2/models/' + m.name + '/infer.'));
  }
  c.append(el('h3', {}, 'Live'), live(m));
  c.append(el('h3', {}, 'Inputs'), signature(m.inputs), el('h3', {}, 'Outputs'), signature(m.outputs));
  const lineage = [['Data source', lin.data_source], ['Data SHA-256', lin.data_sha256 && el('code', {}, lin.data_sha256)],
    ['Created', lin.created], ['Converted from', lin.converted_from], ['Written by', lin.lstmcast_version && 'lstmcast ' + lin.lstmcast_version]];
  if (lineage.some(([, v]) => v)) c.append(el('h3', {}, 'Lineage'), facts(lineage));
  const table = metrics(lin.test_metrics);
  if (table) c.append(table);
  return c;
}

async function load() {
  const [list, index] = await Promise.all([api('/v1/models'), api('/v2/repository/index', { method: 'POST', body: {} })]);
  const models = list.models.slice();
  const known = new Set(models.map(m => m.name + '/' + m.version));
  for (const i of index || []) {
    if (!known.has(i.name + '/' + i.version) && i.state !== 'READY') models.push(i);
  }
  models.sort((a, b) => a.name.localeCompare(b.name) || Number(a.version) - Number(b.version));
  const newShape = JSON.stringify(models.map(m => [m.name, m.version, m.state, m.reason]));
  const root = document.getElementById('models');
  if (newShape !== shape) {
    shape = newShape;
    root.replaceChildren(...models.map(card));
    if (!models.length) root.append(el('p', {}, 'The repository holds no models yet: add <name>/<version>/model.onnx.'));
  } else {
    // Same models: only the live figures change, so focus and scroll stay where they are.
    for (const m of models) {
      const c = root.querySelector(`article[data-model="${CSS.escape(m.name)}"][data-version="${CSS.escape(String(m.version))}"]`);
      if (!c || !m.live) continue;
      for (const [k, v] of Object.entries(m.live)) {
        const cell = c.querySelector(`[data-live="${k}"]`);
        if (cell) cell.textContent = fmt(v, 3);
      }
    }
  }
  const ready = models.filter(m => m.state === 'READY').length;
  document.getElementById('summary').textContent =
    `${plural(models.length, 'model version')}, ${ready} ready. Live figures refresh every ${REFRESH_MS / 1000} s.`;
}

boot(load);
setInterval(() => {
  if (document.getElementById('content').classList.contains('hidden')) return;
  load().catch(e => { document.getElementById('summary').textContent = e.message; });
}, REFRESH_MS);
