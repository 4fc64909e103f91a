// The REST client: JSON calls, the API's `detail` on errors, bearer password, SSE streams.

const KEY = 'agenthost.password';
export const auth = new EventTarget();

export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

export function password() { return sessionStorage.getItem(KEY) || localStorage.getItem(KEY); }
export function setPassword(value, remember) {
  sessionStorage.setItem(KEY, value);
  if (remember) localStorage.setItem(KEY, value); else localStorage.removeItem(KEY);
}
export function forgetPassword() { sessionStorage.removeItem(KEY); localStorage.removeItem(KEY); }

function headers(extra) {
  const out = {Accept: 'application/json', ...extra};
  const pw = password();
  if (pw) out.Authorization = `Bearer ${pw}`;
  return out;
}

export function detailText(detail) {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => (d && d.msg ? `${(d.loc || []).filter((p) => p !== 'body').join('.')}: ${d.msg}` : JSON.stringify(d))).join('; ');
  }
  return JSON.stringify(detail);
}

async function failure(response) {
  let detail = response.statusText || 'request failed';
  try {
    const body = await response.json();
    if (body && body.detail !== undefined) detail = detailText(body.detail);
    else detail = JSON.stringify(body);
  } catch { /* not JSON */ }
  if (response.status === 401) auth.dispatchEvent(new Event('unauthorized'));
  return new ApiError(response.status, detail);
}

function init(method, body) {
  const opts = {method, headers: headers()};
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) {
    opts.body = JSON.stringify(body);
    opts.headers['Content-Type'] = 'application/json';
  }
  return opts;
}

// fetch + error mapping; returns the Response (for headers) and the parsed body.
export async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, init(method, body));
  } catch (err) {
    throw new ApiError(0, `network error: ${err.message}`);
  }
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return {response, data: null};
  const type = response.headers.get('content-type') || '';
  return {response, data: type.includes('json') ? await response.json() : await response.text()};
}

export async function api(method, path, body) {
  return (await call(method, path, body)).data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// POST a body and yield each SSE `data:` JSON event until [DONE] (or the stream ends / is aborted).
export async function* stream(path, body, signal) {
  let response;
  try {
    response = await fetch(path, {...init('POST', body), signal});
  } catch (err) {
    if (err.name === 'AbortError') return;
    throw new ApiError(0, `network error: ${err.message}`);
  }
  if (!response.ok) throw await failure(response);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let cut;
      while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const chunk = buffer.slice(0, cut);
        buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
        const data = chunk.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        if (!data) continue;
        if (data === '[DONE]') return;
        try { yield JSON.parse(data); } catch { yield {message_type: 'raw', text: data}; }
      }
    }
  } catch (err) {
    if (err.name !== 'AbortError') throw err;
  } finally {
    reader.releaseLock?.();
  }
}
