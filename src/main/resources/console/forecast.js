// The forecast page: history pasted or read from a CSV, sent to POST /v1/models/{m}/forecast, drawn with Chart.js.
import { api, ApiError, boot, el, fmt, plural } from './api.js';

const name = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] || '');
const $ = (id) => document.getElementById(id);
let model = null;      // this model's entry of GET /v1/models
let csv = null;        // {header: [...], rows: [[...]]} of the loaded file
let chart = null;
let last = null;       // the last answer, for the table and the download

if (window.ChartZoom) window.Chart.register(window.ChartZoom);

async function load() {
  const list = await api('/v1/models');
  const versions = list.models.filter(m => m.name === name);
  const ready = versions.filter(m => m.state === 'READY');
  $('title').textContent = 'Forecast: ' + name;
  document.title = name + ' · lstmcast';
  model = ready[ready.length - 1] || null;
  const settings = $('settings');
  if (!model) {
    settings.textContent = versions.length
      ? `No version of '${name}' serves: ${versions.map(v => v.state + (v.reason ? ' (' + v.reason + ')' : '')).join('; ')}`
      : `No model named '${name}' in the repository.`;
    $('forecast-form').classList.add('hidden');
    return;
  }
  if (!model.forecast) {
    settings.textContent = `'${name}' is not a forecaster: ${model.forecast_unavailable}`;
    $('forecast-form').classList.add('hidden');
    return;
  }
  const f = model.forecast;
  settings.textContent = `Version ${model.version}. Reads ${f.lookback === 0 ? 'windows of any length' : 'the last ' + f.lookback + ' steps'}`
    + ` of ${f.features.join(', ')}; forecasts ${f.target} ${plural(f.horizon, 'step')} ahead (${f.transform || 'level'}).`;
  $('values-hint').textContent = f.features.length === 1
    ? `At least ${Math.max(1, f.lookback)} numbers (${f.features[0]}), separated by commas, spaces or new lines.`
    : `One step per line, ${f.features.length} numbers each (${f.features.join(', ')}); at least ${Math.max(1, f.lookback)} lines.`;
  if (!$('horizon').value) $('horizon').value = f.horizon;
}

/** The textarea as the API's window: numbers stay numbers; anything else is sent as typed, for the API to name. */
function parseValues(text) {
  const token = (t) => (t.trim() !== '' && Number.isFinite(Number(t)) ? Number(t) : t);
  if (model.forecast.features.length === 1) {
    return text.split(/[\s,;]+/).filter(t => t !== '').map(token);
  }
  return text.split(/\r?\n/).filter(l => l.trim() !== '').map(l => l.split(/[\s,;]+/).filter(t => t !== '').map(token));
}

function clearErrors() {
  for (const id of ['values', 'horizon', 'csv-file']) $(id).removeAttribute('aria-invalid');
  for (const id of ['values-error', 'horizon-error', 'csv-error']) $(id).textContent = '';
}

function showError(message, field = /horizon/i.test(message) ? 'horizon' : 'values') {
  $(field + '-error').textContent = message;
  $(field).setAttribute('aria-invalid', 'true');
  $(field).focus();
}

/**
 * The horizon field's problem, or null: checked here so that a typo is named at once, beside the field, rather than
 * silently replaced by the model's horizon (the field is text, not a number input, so that what was typed can be quoted).
 */
function horizonProblem(text) {
  if (text === '' || /^\+?\d+$/.test(text) && Number(text) >= 1) return null;
  return `Horizon must be a whole number of at least 1, got "${text}"`;
}

// ---- CSV -----------------------------------------------------------------------------------------------------------

function splitCsvLine(line) {
  const out = [];
  let cur = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur); cur = ''; }
    else cur += ch;
  }
  out.push(cur);
  return out.map(s => s.trim());
}

function readCsv(text) {
  const lines = text.split(/\r?\n/).filter(l => l.trim() !== '');
  if (lines.length < 2) throw new Error('the file needs a header line and at least one row');
  return { header: splitCsvLine(lines[0]), rows: lines.slice(1).map(splitCsvLine) };
}

function option(value, label, selected) {
  const o = el('option', { value }, label);
  o.selected = selected;
  return o;
}

function showColumns() {
  const f = model.forecast;
  const lower = csv.header.map(h => h.toLowerCase());
  const guessTime = lower.findIndex(h => ['date', 'time', 'timestamp', 't', 'month', 'day'].includes(h) || ((model.lineage || {}).time_column && h === model.lineage.time_column.toLowerCase()));
  $('time-column').replaceChildren(option('', '(none: number the steps)', guessTime < 0),
    ...csv.header.map((h, i) => option(String(i), h, i === guessTime)));
  const boxes = f.features.map((feature, k) => {
    let guess = lower.indexOf(feature.toLowerCase());
    if (guess < 0) guess = Math.min(csv.header.length - 1, k + (guessTime === 0 ? 1 : 0));
    const id = 'value-column-' + k;
    return el('div', { class: 'field' }, el('label', { for: id }, `Column for ${feature}`),
      el('select', { id, name: id, 'data-feature': k }, csv.header.map((h, i) => option(String(i), h, i === guess))));
  });
  $('value-columns').replaceChildren(...boxes);
  $('csv-columns').classList.remove('hidden');
  for (const s of $('csv-columns').querySelectorAll('select')) s.addEventListener('change', fillFromCsv);
  fillFromCsv();
}

/** The chosen columns' last rows into the textarea (enough for the model, and some history to look at). */
function fillFromCsv() {
  const f = model.forecast;
  const cols = [...$('value-columns').querySelectorAll('select')].map(s => Number(s.value));
  const keep = Math.min(csv.rows.length, Math.max(f.lookback * 3, 120));
  const rows = csv.rows.slice(csv.rows.length - keep);
  $('values').value = rows.map(r => cols.map(c => r[c] ?? '').join(', ')).join('\n');
  const t = $('time-column').value;
  $('values').dataset.times = t === '' ? '' : JSON.stringify(rows.map(r => r[Number(t)] ?? ''));
}

async function loadFile(file) {
  clearErrors();
  try {
    csv = readCsv(await file.text());
    showColumns();
  } catch (e) {
    $('csv-error').textContent = file.name + ': ' + e.message;
    $('csv-file').setAttribute('aria-invalid', 'true');
  }
}

// ---- time labels ----------------------------------------------------------------------------------------------------

/** Labels for the steps after the last history label: numbers, months and dates continue; anything else is "+h". */
function futureLabels(times, h) {
  const lastT = times[times.length - 1], prev = times[times.length - 2];
  const out = [];
  if (lastT !== undefined && /^\d{4}-\d{2}$/.test(lastT)) {
    let [y, m] = lastT.split('-').map(Number);
    for (let i = 0; i < h; i++) { m++; if (m > 12) { m = 1; y++; } out.push(`${y}-${String(m).padStart(2, '0')}`); }
    return out;
  }
  if (lastT !== undefined && prev !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(lastT) && /^\d{4}-\d{2}-\d{2}$/.test(prev)) {
    const step = Date.parse(lastT) - Date.parse(prev);
    for (let i = 1; i <= h; i++) out.push(new Date(Date.parse(lastT) + i * step).toISOString().slice(0, 10));
    return out;
  }
  if (lastT !== undefined && prev !== undefined && lastT !== '' && Number.isFinite(Number(lastT)) && Number.isFinite(Number(prev))) {
    const step = Number(lastT) - Number(prev);
    const digits = Math.max(...[lastT, prev].map(s => (s.split('.')[1] || '').length));
    for (let i = 1; i <= h; i++) out.push((Number(lastT) + i * step).toFixed(digits));
    return out;
  }
  for (let i = 1; i <= h; i++) out.push('+' + i);
  return out;
}

// ---- forecast -------------------------------------------------------------------------------------------------------

async function forecast(ev) {
  ev.preventDefault();
  clearErrors();
  const win = parseValues($('values').value);
  const horizonText = $('horizon').value.trim();
  const problem = horizonProblem(horizonText);
  if (problem) {
    showError(problem, 'horizon');
    return;
  }
  const body = { inputs: [win] };
  if (horizonText !== '') body.horizon = Number(horizonText);
  // The model's own intervals, when it has any: the band is drawn around the forecast.
  const levels = model.forecast.interval_levels || [];
  if (levels.length) body.intervals = levels;
  $('run').disabled = true;
  try {
    const answer = await api('/v1/models/' + encodeURIComponent(name) + '/forecast', { method: 'POST', body });
    const target = win.map(r => (Array.isArray(r) ? r[0] : r));
    let times = [];
    try { times = JSON.parse($('values').dataset.times || '[]'); } catch { times = []; }
    const labelled = times.length === target.length;
    if (!labelled) times = target.map((_, i) => String(i + 1 - target.length));
    draw(target, answer.forecasts[0], times, labelled, bandsOf(answer));
  } catch (e) {
    if (e instanceof ApiError) showError(e.message);
    else showError(String(e.message || e));
  } finally {
    $('run').disabled = false;
  }
}

/** The answer's intervals as [{level, lower: [...], upper: [...]}], widest first; [] when it has none. */
function bandsOf(answer) {
  if (!answer.levels) return [];
  const bands = answer.levels.map((level, l) => ({
    level,
    lower: answer.lower[0].map(step => step[l]),
    upper: answer.upper[0].map(step => step[l]),
  }));
  bands.sort((a, b) => b.level - a.level);
  bands.extrapolatedFrom = answer.intervals_extrapolated_from || 0;
  return bands;
}

function draw(history, forecasts, times, labelled, bands = []) {
  const future = futureLabels(times, forecasts.length);
  last = { history, forecasts, times, future, bands };
  const n = history.length;
  const historyData = history.concat(forecasts.map(() => null));
  // The forecast line starts at the last observed point, so the two lines join.
  const forecastData = history.map((_, i) => (i === n - 1 ? history[n - 1] : null)).concat(forecasts);
  const pad = history.map(() => null);
  // Each band is two datasets, the upper one filled down to the lower; drawn under the lines, widest first.
  const shades = ['rgba(31, 95, 191, 0.12)', 'rgba(31, 95, 191, 0.22)'];
  const bandSets = bands.flatMap((b, i) => [
    { label: `${b.level}% lower`, data: pad.concat(b.lower), borderWidth: 0, pointRadius: 0, fill: false, band: true },
    { label: `${b.level}% interval`, data: pad.concat(b.upper), borderWidth: 0, pointRadius: 0, band: true,
      backgroundColor: shades[Math.min(i, shades.length - 1)], fill: '-1' },
  ]);
  const data = {
    labels: times.concat(future),
    datasets: [
      { label: 'History', data: historyData, borderColor: '#5a6472', backgroundColor: '#5a6472', pointRadius: 0, borderWidth: 1.5 },
      { label: 'Forecast', data: forecastData, borderColor: '#1f5fbf', backgroundColor: '#1f5fbf', pointRadius: 2, borderWidth: 2 },
      ...bandSets,
    ],
  };
  $('result').classList.remove('hidden');
  if (chart) chart.destroy();
  chart = new window.Chart($('chart'), {
    type: 'line',
    data,
    options: {
      animation: false, maintainAspectRatio: false, spanGaps: false,
      interaction: { mode: 'index', intersect: false },
      scales: { x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } } },
      plugins: {
        legend: { position: 'top', labels: { filter: (item, d) => !/ lower$/.test(d.datasets[item.datasetIndex].label) } },
        filler: { propagate: false },
        tooltip: { callbacks: { label: (c) => (c.raw === null ? null : `${c.dataset.label}: ${c.raw}`) } },
        zoom: window.ChartZoom ? {
          zoom: { wheel: { enabled: true }, pinch: { enabled: true }, mode: 'x' },
          pan: { enabled: true, mode: 'x', modifierKey: 'shift' },
        } : undefined,
      },
    },
  });
  // Without a time column the steps are their own labels: no Time column then.
  $('forecast-table').querySelector('th.time').classList.toggle('hidden', !labelled);
  const head = $('forecast-table').querySelector('thead tr');
  head.querySelectorAll('th.band').forEach(th => th.remove());
  const shown = [...bands].sort((a, b) => a.level - b.level);
  for (const b of shown) head.append(el('th', { scope: 'col', class: 'band' }, `${b.level}% interval`));
  const mark = (i) => (bands.extrapolatedFrom && i + 1 >= bands.extrapolatedFrom ? ' *' : '');
  const rows = forecasts.map((v, i) => el('tr', {}, el('td', {}, i + 1),
    el('td', { class: labelled ? 'time' : 'time hidden' }, future[i]), el('td', { class: 'value' }, String(v)),
    ...shown.map(b => el('td', { class: 'band' }, `${b.lower[i]} .. ${b.upper[i]}${mark(i)}`))));
  $('forecast-table').querySelector('tbody').replaceChildren(...rows);
  $('band-note').textContent = bands.extrapolatedFrom
    ? `* Past the model's horizon (from step ${bands.extrapolatedFrom}) the intervals are extrapolated: the last `
      + 'calibrated half-width times the square root of step / horizon.'
    : '';
  $('result').scrollIntoView({ block: 'nearest' });
}

function download() {
  if (!last) return;
  const levels = [...last.bands].sort((a, b) => a.level - b.level);
  const extra = levels.flatMap(b => [`lower_${b.level}`, `upper_${b.level}`]);
  const lines = [['step', 'time', 'kind', 'value', ...extra].join(',')];
  const empty = extra.map(() => '');
  last.history.forEach((v, i) => lines.push([i + 1 - last.history.length, csvCell(last.times[i]), 'history', v, ...empty].join(',')));
  last.forecasts.forEach((v, i) => lines.push([i + 1, csvCell(last.future[i]), 'forecast', v,
    ...levels.flatMap(b => [b.lower[i], b.upper[i]])].join(',')));
  const a = el('a', { href: URL.createObjectURL(new Blob([lines.join('\n') + '\n'], { type: 'text/csv' })),
    download: `${name}-forecast.csv` });
  document.body.append(a);
  a.click();
  a.remove();
}

function csvCell(s) {
  const t = String(s ?? '');
  return /[",\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
}

$('forecast-form').addEventListener('submit', forecast);
$('values').addEventListener('input', () => { $('values').dataset.times = ''; });
$('csv-file').addEventListener('change', (e) => { if (e.target.files[0]) loadFile(e.target.files[0]); });
$('time-column').addEventListener('change', fillFromCsv);
$('reset-zoom').addEventListener('click', () => chart && chart.resetZoom && chart.resetZoom());
$('download').addEventListener('click', download);
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer.files[0]) loadFile(e.dataTransfer.files[0]);
});

boot(load);
