// The JSON API client and small helpers shared by the pages of `between`.
//
// Offsets in the API are Unicode code points (end exclusive) into the source text; the DOM
// counts UTF-16 units. Everything here that converts between the two says which it takes.
// DOM is always built with createElement/textContent (see `el`), never innerHTML.

const body = document.body;

/** The study's slug, the logged-in account, its role (to show) and the CSRF token, from the page. */
export const page = Object.freeze({
  slug: body.dataset.study || '',
  csrf: body.dataset.csrf || '',
  account: body.dataset.account || '',
  role: body.dataset.role || '',
});

// What to offer, as the study's policy decided it for this account (the server checks again).
export const canWrite = body.dataset.canWrite === 'true';
export const isOwner = body.dataset.canManage === 'true';
/** Sees only their own codings where blind coding is on. */
export const isBlinded = body.dataset.blinded === 'true';

/** Base of the API for this study. */
export const apiBase = `/api/v1/studies/${encodeURIComponent(page.slug)}`;

/** Base of this study's pages. */
export const pageBase = `/s/${encodeURIComponent(page.slug)}`;

/** A failed call: `.code` is the server's stable code (`conflict`, …), `.status` the HTTP status. */
export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

/**
 * Calls `/api/v1/studies/{slug}{path}`. `body` (if any) is sent as JSON. Non-GET requests carry
 * the CSRF token. Returns the parsed JSON (or null for 204); throws an ApiError otherwise.
 */
export async function api(method, path, body) {
  return (await request(method, apiBase + path, body)).data;
}

/**
 * Every row of a list (`GET` of an endpoint answering a JSON array): the server sends a list a
 * page at a time, each page saying where the next is (`Link: <url>; rel="next"`).
 */
export async function apiAll(path) {
  const rows = [];
  let url = apiBase + path;
  while (url) {
    const { data, response } = await request('GET', url);
    rows.push(...data);
    url = nextPage(response.headers.get('Link'));
  }
  return rows;
}

/** The next page's address in a `Link` header, or null on the last page. */
function nextPage(link) {
  const next = link && /<([^>]*)>\s*;\s*rel="next"/.exec(link);
  return next ? next[1] : null;
}

/** One call to `url`: the parsed JSON (null for 204) and the response; throws an ApiError. */
async function request(method, url, body) {
  method = method.toUpperCase();
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = page.csrf;
  let response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw new ApiError('The server could not be reached. Check your connection and try again.', 'network', 0);
  }
  if (response.status === 204) return { data: null, response };
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = null;
    }
  }
  if (!response.ok) {
    const err = data && data.error;
    const message = err && err.message ? err.message : `The server answered ${response.status} ${response.statusText}.`;
    throw new ApiError(message, err && err.code ? err.code : 'http_' + response.status, response.status);
  }
  return { data, response };
}

/** A sentence for people about a failed call, with advice for the common cases. */
export function describeError(e) {
  if (!(e instanceof ApiError)) return (e && e.message) || String(e);
  switch (e.code) {
    case 'conflict':
      return /someone else/i.test(e.message)
        ? capitalise(e.message)
        : `Changed by someone else — reload to see the latest version. (${e.message})`;
    case 'unauthenticated':
      return `Your session has ended — log in again. (${e.message})`;
    case 'forbidden':
      // The server's message may already say so.
      return /^not allowed/i.test(e.message) ? capitalise(e.message) : `Not allowed: ${e.message}`;
    case 'busy':
      return `The study is busy — try again in a moment. (${e.message})`;
    default:
      return e.message;
  }
}

function capitalise(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

// ---- code points -------------------------------------------------------------------------

/** Length of `str` in code points. */
export function cpLength(str) {
  let n = 0;
  for (const _ of str) n++;
  return n;
}

/** The code points of `str` (an array of strings, one per code point). */
export function cpArray(str) {
  return Array.from(str);
}

/** `str` from code point `start` to `end` (exclusive). */
export function cpSlice(str, start, end) {
  return Array.from(str).slice(start, end).join('');
}

/** The UTF-16 index in `str` of code point offset `cp`. */
export function cpToUtf16(str, cp) {
  let units = 0;
  let n = 0;
  for (const ch of str) {
    if (n >= cp) break;
    units += ch.length;
    n++;
  }
  return units;
}

/** The code point offset in `str` of UTF-16 index `index` (a split surrogate pair counts whole). */
export function utf16ToCp(str, index) {
  return cpLength(str.slice(0, index));
}

// ---- DOM ---------------------------------------------------------------------------------

/**
 * Creates an element. `props`: `class`, `text`, `dataset` (object), `attrs` (object), `on`
 * (object of listeners), `style` (object of CSS properties, set through the CSSOM so the
 * content security policy allows it); any other key is set as a property. Children may be
 * nodes, strings (as text) or null.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
    else if (key === 'attrs') {
      for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
    } else if (key === 'on') for (const [k, v] of Object.entries(value)) node.addEventListener(k, v);
    else if (key === 'style') for (const [k, v] of Object.entries(value)) node.style.setProperty(k, v);
    else node[key] = value;
  }
  append(node, ...children);
  return node;
}

/** Appends nodes or strings (as text), skipping null and false; arrays are flattened. */
export function append(parent, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Removes every child of `node`. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** `hh:mm:ss` of a time in milliseconds. */
export function formatMs(ms) {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return [h, m, s].map((n) => String(n).padStart(2, '0')).join(':');
}

/** A readable local date and time of an RFC 3339 timestamp. */
export function formatDate(stamp) {
  if (!stamp) return '';
  const d = new Date(stamp);
  if (Number.isNaN(d.getTime())) return stamp;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A colour `#rrggbb` from the API, or a neutral grey if it is not one (it goes into CSS). */
export function safeColour(colour) {
  return /^#[0-9a-fA-F]{6}$/.test(colour || '') ? colour : '#888888';
}

/**
 * A message area: `show(text, kind)` with kind `error` (the default), `info` or `ok`; `clear()`.
 * The element should be a `role="alert"` (errors) or `role="status"` region.
 */
export function messenger(node) {
  let timer = null;
  return {
    node,
    show(text, kind = 'error') {
      clearTimeout(timer);
      node.textContent = '';
      node.className = `message message-${kind}`;
      // Put the text in a fresh node so screen readers announce a repeated message again.
      node.append(el('span', { text }));
      if (kind !== 'error') timer = setTimeout(() => this.clear(), 6000);
      if (kind === 'error') node.append(' ', el('button', { type: 'button', class: 'link-button', text: 'Dismiss', on: { click: () => this.clear() } }));
    },
    clear() {
      clearTimeout(timer);
      node.textContent = '';
      node.className = 'message';
    },
  };
}

/** Finds `#message` or creates it at the start of `container`. */
export function messageArea(container) {
  let node = document.getElementById('message');
  if (!node) {
    node = el('div', { id: 'message', class: 'message', attrs: { role: 'alert', 'aria-live': 'assertive' } });
    container.prepend(node);
  }
  return messenger(node);
}

/** Debounces `fn` by `ms`. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A unique id for ARIA references. */
let nextId = 0;
export function uid(prefix = 'id') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}
