// The console's one door to the server: the public HTTP API, with the API key when the server asks for one.
const KEY = 'lstmcast.apiKey';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls a public API route; JSON in and out; a non-2xx answer throws an ApiError with the API's own message. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  const key = sessionStorage.getItem(KEY);
  if (key) headers.Authorization = 'Bearer ' + key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) {
    throw new ApiError(res.status, json && typeof json.error === 'string' ? json.error : `HTTP ${res.status}: ${text}`);
  }
  return json;
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c !== undefined && c !== null && c !== false) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/**
 * Runs the page's first API calls; when the server answers 401 the page shows the key form instead, stores the key
 * for this browser tab (sessionStorage) and tries again. Nothing else is shown until the key works.
 */
export async function boot(start) {
  const panel = document.getElementById('key-panel');
  const content = document.getElementById('content');
  const form = panel.querySelector('form');
  const input = panel.querySelector('input');
  const message = panel.querySelector('.error');
  const attempt = async () => {
    try {
      await start();
      panel.classList.add('hidden');
      content.classList.remove('hidden');
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        const hadKey = sessionStorage.getItem(KEY) !== null;
        sessionStorage.removeItem(KEY);
        content.classList.add('hidden');
        panel.classList.remove('hidden');
        message.textContent = hadKey ? e.message : '';
        input.setAttribute('aria-invalid', hadKey ? 'true' : 'false');
        input.focus();
        return false;
      }
      throw e;
    }
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, input.value.trim());
    input.value = '';
    await attempt();
  });
  return attempt();
}

/** A count and its noun: "1 step", "5 steps". */
export function plural(n, noun) {
  return `${n} ${n === 1 ? noun : noun + 's'}`;
}

export function fmt(x, digits = 4) {
  if (x === null || x === undefined) return '–';
  if (typeof x !== 'number') return String(x);
  return Math.abs(x) >= 1000 ? x.toFixed(1) : Number(x.toPrecision(digits)).toString();
}
