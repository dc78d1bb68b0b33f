// customs web console. Hand-written, no dependencies, served from this listener only.
//
// Every piece of flow content reaches the page through textContent (el() below, which has no
// way to set HTML); links are console routes ("#/...") or http(s) URLs, nothing else. The map
// is SVG drawn by the server with every label escaped; it is parsed as XML, never as HTML, and
// anything active in it (scripts, event attributes, foreign links) is removed before it is
// shown. The Content-Security-Policy forbids inline script in any case.
'use strict';

(() => {
  const main = document.getElementById('main');
  const who = document.getElementById('who');
  const state = { session: { authenticated: false, csrf: '', loopback: false, store: false }, timer: null, etag: '' };

  // ---- DOM helpers: text only -------------------------------------------------------------

  function safeHref(v) {
    v = String(v);
    if (v.startsWith('#/')) return v;
    try {
      const u = new URL(v);
      if (u.protocol === 'https:' || u.protocol === 'http:') return u.href;
    } catch (_) { /* not a URL */ }
    return '#';
  }

  // el(tag, attrs, ...children): strings become text nodes, never markup.
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else if (k === 'href') {
        e.setAttribute('href', safeHref(v));
        if (!String(v).startsWith('#/')) { e.setAttribute('rel', 'noopener noreferrer'); e.setAttribute('target', '_blank'); }
      } else if (k.startsWith('on')) continue;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const k of kids.flat(Infinity)) {
      if (k === undefined || k === null || k === false) continue;
      e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return e;
  }

  const show = (...nodes) => main.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
  const fmtInt = (n) => (n || 0).toLocaleString('en-US');
  function fmtBytes(n) {
    n = n || 0;
    if (n < 1024) return n + ' B';
    const u = ['KiB', 'MiB', 'GiB', 'TiB'];
    let i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
    return n.toFixed(1) + ' ' + u[i];
  }
  function pad(n) { return String(n).padStart(2, '0'); }
  function fmtTime(s) {
    if (!s || s.startsWith('0001-')) return '—';
    const d = new Date(s);
    if (isNaN(d)) return s;
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }
  function mapText(m) {
    return Object.entries(m || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, n]) => k + ' ' + fmtInt(n)).join(', ');
  }
  function badge(action) { return el('span', { class: 'badge action-' + (action || 'allow'), text: action || 'allow' }); }
  function dl(pairs) {
    const d = el('dl', { class: 'facts' });
    for (const [k, v] of pairs) {
      if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
      d.append(el('dt', { text: k }), el('dd', {}, v instanceof Node ? v : String(v)));
    }
    return d;
  }
  function table(headers, rows, cls) {
    return el('table', { class: cls || 'grid' },
      el('thead', {}, el('tr', {}, headers.map((h) => el('th', { text: h })))),
      el('tbody', {}, rows));
  }
  function section(title, ...kids) { return el('section', { class: 'card' }, el('h2', { text: title }), ...kids); }
  function note(text, cls) { return el('p', { class: cls || 'muted', text }); }

  // ---- requests ---------------------------------------------------------------------------

  class HTTPError extends Error {
    constructor(status, msg) { super(msg); this.status = status; }
  }

  async function api(path, opts) {
    opts = opts || {};
    const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
    if (opts.method === 'POST') headers['X-Customs-CSRF'] = state.session.csrf || '';
    const r = await fetch(path, { method: opts.method || 'GET', headers, body: opts.body, credentials: 'same-origin', cache: 'no-store' });
    if (r.status === 304) return { notModified: true };
    let body = null;
    const text = await r.text();
    try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
    if (!r.ok) throw new HTTPError(r.status, (body && body.error) || (r.status + ' ' + r.statusText));
    return { body, etag: r.headers.get('ETag') || '' };
  }

  function failure(err, route) {
    if (err instanceof HTTPError && err.status === 401) return loginForm(route, 'This page reads the flow store: it needs the admin token.');
    return el('div', { class: 'error', role: 'alert', text: String(err.message || err) });
  }

  async function refreshSession() {
    try {
      const { body } = await api('/ui/api/session');
      state.session = body;
    } catch (_) { /* keep the last known */ }
    const s = state.session;
    if (s.authenticated) {
      who.replaceChildren(el('span', { class: 'muted', text: 'signed in' }), ' ',
        el('button', { type: 'button', class: 'link', id: 'logout', onclick: logout, text: 'Sign out' }));
    } else {
      const { path, params } = parseRoute();
      const next = path === '/login' ? (params.get('next') || '/flows') : currentRoute();
      who.replaceChildren(el('a', { href: '#/login?next=' + encodeURIComponent(next), id: 'login-link', text: 'Sign in' }));
    }
  }

  async function logout() {
    try { await api('/ui/logout', { method: 'POST' }); } catch (_) { /* signed out anyway */ }
    await refreshSession();
    location.hash = '#/login';
  }

  // ---- routing ----------------------------------------------------------------------------

  function currentRoute() { return (location.hash || '#/flows').slice(1); }

  function parseRoute() {
    const r = currentRoute();
    const i = r.indexOf('?');
    return { path: i < 0 ? r : r.slice(0, i), params: new URLSearchParams(i < 0 ? '' : r.slice(i + 1)) };
  }

  function stopPolling() {
    if (state.timer) { clearInterval(state.timer); state.timer = null; }
  }

  async function route() {
    stopPolling();
    const { path, params } = parseRoute();
    const page = path.split('/')[1] || 'flows';
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page || (page === 'flow' && a.dataset.page === 'flows'));
    document.body.dataset.page = page;
    const id = decodeURIComponent(path.split('/').slice(2).join('/'));
    try {
      switch (page) {
        case 'flows': return await pageFlows(params);
        case 'flow': return await pageFlow(id);
        case 'map': return await pageMap(params);
        case 'exposure': return await pageExposure(params);
        case 'rules': return await pageRules();
        case 'catalog': return id ? await pageVendor(id) : await pageCatalog(params);
        case 'login':
          if (state.session.authenticated) { location.hash = '#' + (params.get('next') || '/flows'); return; }
          return show(loginForm(params.get('next') || '/flows'));
        default: return show(note('No such page.', 'error'));
      }
    } catch (err) {
      show(failure(err, currentRoute()));
    }
  }

  // ---- login ------------------------------------------------------------------------------

  function loginForm(next, why) {
    const failed = new URLSearchParams(location.search).get('login') === 'failed';
    const s = state.session;
    return el('section', { class: 'card login' },
      el('h2', { text: 'Sign in' }),
      why ? note(why) : null,
      failed ? el('p', { class: 'error', role: 'alert', id: 'login-failed', text: 'That is not the admin token.' }) : null,
      el('form', { method: 'post', action: '/ui/login', id: 'login-form' },
        el('label', { for: 'token', text: 'Admin token (the contents of customs-data/admin.token)' }),
        el('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true, autofocus: true }),
        el('input', { type: 'hidden', name: 'next', value: next || '/flows' }),
        el('button', { type: 'submit', id: 'login-submit', text: 'Sign in' })),
      note('The token is sent once; the browser then keeps an HttpOnly session cookie for 12 hours. ' +
        (s.loopback ? 'On this loopback listener the catalog and the rules open without it; flows, the map and exposure always need it.'
          : 'On this address every page but this one needs it.')));
  }

  // ---- flows ------------------------------------------------------------------------------

  const filterFields = [
    ['since', 'since', '24h'], ['until', 'until', ''], ['vendor', 'vendor', ''], ['category', 'category', ''],
    ['client', 'client', ''], ['user', 'user', ''], ['detector', 'detector', ''], ['action', 'action', ''],
    ['api', 'api', ''], ['host', 'host', ''], ['limit', 'limit', '50'],
  ];

  function filterForm(params) {
    const form = el('form', { class: 'filters', id: 'filters' });
    for (const [name, label, def] of filterFields) {
      let input;
      if (name === 'action') {
        input = el('select', { name, id: 'f-' + name }, ['', 'allow', 'alert', 'redact', 'block'].map((a) => el('option', { value: a, text: a || 'any' })));
        input.value = params.get(name) || '';
      } else {
        input = el('input', { name, id: 'f-' + name, value: params.get(name) || def, placeholder: def || 'any', size: name === 'limit' ? 4 : 12 });
      }
      form.append(el('label', {}, el('span', { text: label }), input));
    }
    const oldest = el('input', { type: 'checkbox', name: 'oldest', id: 'f-oldest', checked: params.get('oldest') === '1' });
    form.append(el('label', { class: 'check' }, oldest, ' oldest first'));
    form.append(el('button', { type: 'submit', text: 'Apply' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      for (const [name] of filterFields) {
        const v = form.elements[name].value.trim();
        if (v) q.set(name, v);
      }
      if (oldest.checked) q.set('oldest', '1');
      location.hash = '#/flows?' + q.toString();
    });
    return form;
  }

  function flowRow(f) {
    const found = (f.findings || []).map((x) => x.detector);
    const tr = el('tr', { 'data-id': f.flow_id, 'data-vendor': (f.vendor && f.vendor.id) || '', tabindex: 0 },
      el('td', { class: 'nowrap', text: fmtTime(f.start) }),
      el('td', { text: f.client }),
      el('td', { text: f.user || '' }),
      el('td', { text: f.method }),
      el('td', { class: 'target' }, el('span', { class: 'host', text: f.host }), el('span', { class: 'path', text: f.path || '' })),
      el('td', { text: (f.vendor && f.vendor.id) || '—' }),
      el('td', { text: f.api || '' }),
      el('td', { text: f.model || '' }),
      el('td', { class: 'num', text: f.status || '' }),
      el('td', {}, badge(f.action)),
      el('td', { class: 'findings', title: found.join(', '), text: found.length ? found.length + ' · ' + [...new Set(found)].join(', ') : '' }));
    const open = () => { location.hash = '#/flow/' + encodeURIComponent(f.flow_id); };
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
    return tr;
  }

  async function pageFlows(params) {
    const q = new URLSearchParams(params);
    if (!q.has('since')) q.set('since', '24h');
    if (!q.has('limit')) q.set('limit', '50');
    const tbody = el('tbody', { id: 'flow-rows' });
    const status = el('p', { class: 'muted', id: 'flow-status' });
    const live = el('input', { type: 'checkbox', id: 'live', checked: true });
    const err = el('div', { id: 'flow-error' });
    const filtered = [...params.keys()].filter((k) => !['since', 'limit'].includes(k));
    show(
      el('h1', { text: 'Flows' }),
      filterForm(params),
      el('div', { class: 'bar' }, el('label', { class: 'check' }, live, ' live (new flows appear as they are stored)'),
        filtered.length ? el('a', { href: '#/flows?since=' + encodeURIComponent(q.get('since')), text: 'clear filters' }) : null),
      err, status,
      el('table', { class: 'grid flows', id: 'flows' },
        el('thead', {}, el('tr', {}, ['time', 'client', 'user', 'method', 'host and path', 'vendor', 'api', 'model', 'status', 'action', 'findings'].map((h) => el('th', { text: h })))),
        tbody));
    const rows = new Map();
    let first = true;
    const load = async () => {
      let res;
      try {
        res = await api('/ui/api/flows?' + q.toString(), { headers: first || !state.etag ? {} : { 'If-None-Match': state.etag } });
      } catch (e) {
        if (e instanceof HTTPError && e.status === 401) { stopPolling(); show(failure(e, currentRoute())); return; }
        err.replaceChildren(el('div', { class: 'error', role: 'alert', text: e.message }));
        return;
      }
      err.replaceChildren();
      if (res.notModified) return;
      state.etag = res.etag;
      const flows = res.body.flows || [];
      const order = [];
      for (const f of flows) {
        let tr = rows.get(f.flow_id);
        if (!tr) {
          tr = flowRow(f);
          rows.set(f.flow_id, tr);
          if (!first) tr.classList.add('new');
        }
        order.push(tr);
      }
      const keep = new Set(flows.map((f) => f.flow_id));
      for (const id of [...rows.keys()]) if (!keep.has(id)) rows.delete(id);
      tbody.replaceChildren(...order);
      status.textContent = flows.length === 0 ? 'No flows match.'
        : fmtInt(flows.length) + ' flows shown, ' + (q.get('oldest') === '1' ? 'oldest' : 'newest') + ' first' +
          (res.body.more ? '; more match: raise the limit (at most 1000) or narrow the filter.' : '.');
      first = false;
    };
    state.etag = '';
    await load();
    state.timer = setInterval(() => { if (live.checked && document.visibilityState !== 'hidden') load(); }, 2000);
  }

  function headersTable(h) {
    const names = Object.keys(h || {}).sort();
    if (!names.length) return note('none');
    return table(['header', 'value'], names.flatMap((n) => h[n].map((v) => el('tr', {}, el('td', { class: 'mono', text: n }), el('td', { class: 'mono wrap', text: v })))));
  }

  function bodyBlock(text, b64, truncated, id) {
    if (b64) return el('div', {}, note('binary body, ' + fmtBytes(Math.floor(b64.length * 3 / 4)) + ' (base64 below)'), el('pre', { class: 'body', id, text: b64 }));
    if (!text) return note('no body');
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON: as is */ }
    return el('div', {}, truncated ? note('truncated: the store keeps the first part of the body') : null, el('pre', { class: 'body', id, text: shown }));
  }

  function renderFlow(f, revealed) {
    const v = f.vendor || {};
    const findings = f.findings || [];
    const head = el('div', { class: 'flowhead' },
      el('h1', {}, el('span', { text: f.method + ' ' }), el('span', { class: 'host', text: f.host }), el('span', { class: 'path', text: f.path || '' })),
      el('p', { class: 'muted' }, el('span', { text: fmtTime(f.start) + ' · flow ' }), el('code', { text: f.flow_id }), ' · ', el('a', { href: '#/flows', text: 'back to flows' })));
    const banner = revealed
      ? el('div', { class: 'revealed', role: 'status', id: 'revealed', text: 'Values in clear. This reveal is recorded in customs-data/audit.log.' })
      : el('div', { class: 'masked', text: 'Every detected value is masked. A reveal shows them in clear and is recorded in customs-data/audit.log.' });
    const verdict = section('Verdict',
      dl([['action', badge(f.action)], ['policy', f.policy], ['reason', f.reason], ['policies that matched', (f.policies || []).join(', ')],
        ['incomplete', (f.incomplete || []).join(', ')], ['marks', (f.marks || []).join(', ')], ['error', f.error ? f.error + (f.error_kind ? ' (' + f.error_kind + ')' : '') : '']]));
    const meta = section('Flow',
      dl([['client', f.client], ['user', f.user], ['vendor', v.id ? v.name + ' (' + v.id + ', ' + (v.category || '?') + (v.country ? ', ' + v.country : '') + ')' : 'not in the catalog'],
        ['api', f.api], ['model', f.model], ['served model', f.served_model], ['retention parameters', Object.entries(f.params || {}).map(([k, x]) => k + '=' + x).join(', ')],
        ['mode', f.mode], ['source', f.source], ['status', f.status], ['sent', fmtBytes(f.bytes_out)], ['received', fmtBytes(f.bytes_in)],
        ['duration', f.end && f.start ? Math.max(0, new Date(f.end) - new Date(f.start)) + ' ms' : ''], ['sni', f.sni], ['target', f.target],
        ['websocket messages', f.messages || ''], ['notes', (f.notes || []).join(' · ')]]));
    const fnd = section('Findings (' + findings.length + ')', findings.length
      ? table(['detector', 'class', 'severity', 'path', 'span', 'masked preview', 'keyed hash'], findings.map((x) =>
        el('tr', {}, el('td', { text: x.detector }), el('td', { text: x.class }), el('td', { text: x.severity }), el('td', { class: 'mono', text: x.path }),
          el('td', { class: 'mono', text: x.start + '–' + x.end }), el('td', { class: 'mono', text: x.preview }), el('td', { class: 'mono hash', text: x.hash }))))
      : note('none'));
    const segs = f.segments || [];
    const seg = section('Segments (' + segs.length + ')', segs.length
      ? table(['path', 'media', 'size'], segs.map((s) => el('tr', {}, el('td', { class: 'mono', text: s.path }), el('td', { text: s.media || 'text' }), el('td', { class: 'num', text: s.size ? fmtBytes(s.size) : '' }))))
      : note('none'));
    const req = section('Request',
      dl([['url', f.url]]), el('h3', { text: 'Headers' }), headersTable(f.request_headers),
      el('h3', { text: 'Body' }), bodyBlock(f.request_body, f.request_body_base64, f.request_truncated, 'request-body'));
    const resp = section('Response',
      dl([['status', f.status]]), el('h3', { text: 'Headers' }), headersTable(f.response_headers),
      el('h3', { text: 'Body' }), bodyBlock(f.response_body, f.response_body_base64, f.response_truncated, 'response-body'));
    const texts = f.texts || [];
    const txt = section('Texts customs read (' + texts.length + ')', texts.length
      ? el('div', {}, texts.map((s) => el('div', { class: 'text' }, el('div', { class: 'mono muted', text: s.path + (s.media ? ' (' + s.media + ')' : '') }), el('pre', { class: 'body', text: s.text || '' }))))
      : note('none'));
    let reveal = null;
    if (!revealed && f.has_bodies) {
      const purpose = el('input', { name: 'purpose', id: 'purpose', placeholder: 'why (written to the audit log)', size: 40, maxlength: 300 });
      const form = el('form', { id: 'reveal-form', class: 'reveal' }, purpose,
        el('button', { type: 'submit', id: 'reveal', class: 'danger', text: 'Reveal values in clear' }));
      const out = el('div');
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        try {
          const { body } = await api('/ui/api/flows/' + encodeURIComponent(f.flow_id) + '/reveal',
            { method: 'POST', body: new URLSearchParams({ purpose: purpose.value }), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
          show(renderFlow(body, true));
        } catch (e) {
          out.replaceChildren(failure(e, currentRoute()));
        }
      });
      reveal = section('Reveal', note('Shows the stored headers and bodies with their values in clear. customs appends who and when (never the values) to customs-data/audit.log first, and refuses if it cannot.'), form, out);
    }
    return el('div', { id: 'flow' }, head, banner, el('div', { class: 'cols' }, meta, verdict), fnd, seg, req, resp, txt, reveal);
  }

  async function pageFlow(id) {
    const { body } = await api('/ui/api/flows/' + encodeURIComponent(id));
    show(renderFlow(body, false));
  }

  // ---- map --------------------------------------------------------------------------------

  // importSVG parses the server's SVG as XML and keeps only inert drawing: no scripts, no
  // foreignObject, no event attributes, links only to console routes.
  function importSVG(text) {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = doc.documentElement;
    if (!root || root.localName !== 'svg' || doc.getElementsByTagName('parsererror').length) throw new Error('the map could not be read');
    for (const bad of [...root.querySelectorAll('script, foreignObject, iframe, object, embed, use, image, style')]) bad.remove();
    for (const node of [root, ...root.querySelectorAll('*')]) {
      for (const attr of [...node.attributes]) {
        const name = attr.name.toLowerCase();
        if (name.startsWith('on')) node.removeAttribute(attr.name);
        else if ((name === 'href' || name === 'xlink:href') && !attr.value.startsWith('#/')) node.removeAttribute(attr.name);
      }
    }
    return document.importNode(root, true);
  }

  function windowForm(route, params, def, extra) {
    const since = el('input', { name: 'since', id: 'w-since', value: params.get('since') || def, size: 22 });
    const until = el('input', { name: 'until', id: 'w-until', value: params.get('until') || '', placeholder: 'now', size: 22 });
    const form = el('form', { class: 'filters' },
      el('label', {}, el('span', { text: 'since' }), since), el('label', {}, el('span', { text: 'until' }), until),
      (extra || []).map((x) => x.label), el('button', { type: 'submit', text: 'Show' }),
      el('span', { class: 'quick' }, ['1h', '24h', '7d', '30d'].map((d) => el('a', { href: '#/' + route + '?' + quick(params, d), text: d }))));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      for (const x of extra || []) { const v = x.value(); if (v) q.set(x.name, v); }
      if (since.value.trim()) q.set('since', since.value.trim());
      if (until.value.trim()) q.set('until', until.value.trim());
      location.hash = '#/' + route + '?' + q.toString();
    });
    return form;
  }
  function quick(params, d) {
    const q = new URLSearchParams(params);
    q.set('since', d);
    q.delete('until');
    return q.toString();
  }

  async function pageMap(params) {
    const q = new URLSearchParams();
    q.set('since', params.get('since') || '7d');
    if (params.get('until')) q.set('until', params.get('until'));
    show(el('h1', { text: 'Supply-chain map' }), windowForm('map', params, '7d'), note('Drawing…'));
    const { body } = await api('/ui/api/map?' + q.toString());
    const t = body.totals || {};
    const svg = importSVG(body.svg);
    const news = (body.new_edges || []).map((e) => el('li', { text: e.client + ' → ' + e.vendor + ' since ' + fmtTime(e.first_seen && e.first_seen.time) + ' (' + fmtInt(e.requests) + ' requests)' }));
    show(
      el('h1', { text: 'Supply-chain map' }),
      windowForm('map', params, '7d'),
      el('p', { class: 'summary', id: 'map-summary', text: fmtTime(body.window.since) + ' to ' + fmtTime(body.window.until) + ': ' + fmtInt(t.requests) + ' flows from ' +
        fmtInt(t.clients) + ' clients to ' + fmtInt(t.vendors) + ' catalog vendors; ' + fmtInt(t.ai_requests) + ' AI requests, ' + fmtInt(t.outside_catalog_requests) + ' outside the catalog' +
        (mapText(t.findings) ? '; findings: ' + mapText(t.findings) : '') + '.' }),
      note('Click a client or a vendor for its flows in this window, a subprocessor for the exposure to it. Edges are as wide as the requests they carried and coloured by the worst finding on them; dashed links are not verified.'),
      el('div', { class: 'map', id: 'map' }, svg),
      news.length ? section('New in the window', el('ul', {}, news)) : null);
  }

  // ---- exposure ---------------------------------------------------------------------------

  async function pageExposure(params) {
    const vendor = el('input', { name: 'vendor', id: 'x-vendor', value: params.get('vendor') || '', placeholder: 'openai, a host, a subprocessor', size: 24, list: 'vendor-ids' });
    const depth = el('input', { name: 'depth', id: 'x-depth', value: params.get('depth') || '4', size: 2 });
    const verified = el('input', { type: 'checkbox', id: 'x-verified', checked: params.get('verified') === '1' });
    const extra = [
      { name: 'vendor', value: () => vendor.value.trim(), label: el('label', {}, el('span', { text: 'vendor' }), vendor) },
      { name: 'depth', value: () => depth.value.trim(), label: el('label', {}, el('span', { text: 'links' }), depth) },
      { name: 'verified', value: () => (verified.checked ? '1' : ''), label: el('label', { class: 'check' }, verified, ' verified links only') },
    ];
    const ids = el('datalist', { id: 'vendor-ids' });
    api('/ui/api/catalog').then(({ body }) => ids.replaceChildren(...body.vendors.map((v) => el('option', { value: v.id, text: v.name })))).catch(() => {});
    const form = windowForm('exposure', params, '30d', extra);
    const head = [el('h1', { text: 'Exposure' }), note('Every flow whose data may have reached a vendor: sent to it, or to a vendor whose supply chain leads to it.'), form, ids];
    if (!params.get('vendor')) return show(...head);
    show(...head, note('Reading…'));
    const q = new URLSearchParams();
    for (const k of ['vendor', 'since', 'until', 'depth', 'verified']) if (params.get(k)) q.set(k, params.get(k));
    if (!q.has('since')) q.set('since', '30d');
    const { body: x } = await api('/ui/api/exposure?' + q.toString());
    const t = x.target;
    const paths = (x.paths || []).map((p) => el('li', {},
      el('span', { text: 'client → ' + [p.vendor, ...p.hops.map((h) => h.to)].join(' → ') + ' ' }),
      el('span', { class: 'muted', text: '(' + p.hops.map((h) => h.kind + (h.verified ? '' : ', not verified')).join('; ') + ')' })));
    if (t.kind !== 'company') paths.unshift(el('li', { text: 'client → ' + t.id + ' (direct)' }));
    const rows = [];
    for (const c of x.clients || []) {
      c.routes.forEach((r, i) => {
        const route = r.via === 'indirect' && r.paths && r.paths.length ? [r.paths[0].vendor, ...r.paths[0].hops.map((h) => h.to)].join(' → ') + (r.paths.length > 1 ? ' (+' + (r.paths.length - 1) + ' paths)' : '') : (r.host || t.id);
        const ff = (r.finding_flows || []).slice(0, 5).map((id) => el('a', { href: '#/flow/' + encodeURIComponent(id), class: 'mono', text: id.slice(-8) }));
        rows.push(el('tr', {},
          el('td', { text: i === 0 ? (c.name ? c.name + ' (' + c.id + ')' : c.id) : '' }),
          el('td', {}, el('span', { class: 'badge via-' + r.via, text: r.via }), ' ', route),
          el('td', { class: 'num' }, el('a', { href: '#/flows?' + new URLSearchParams({ vendor: r.vendor || '', client: c.ip, since: x.since, until: x.until }).toString(), text: fmtInt(r.requests) })),
          el('td', { class: 'num', text: fmtInt((r.actions && r.actions.block) || 0) }),
          el('td', { class: 'nowrap', text: fmtTime(r.first && r.first.time) }),
          el('td', { class: 'nowrap', text: fmtTime(r.last && r.last.time) }),
          el('td', { text: mapText(r.findings) || '—' }),
          el('td', { class: 'mono' }, (r.previews || []).slice(0, 3).map((p) => el('div', { text: p.detector + ' ' + p.preview + (p.flows > 1 ? ' ×' + p.flows : '') }))),
          el('td', {}, ff.flatMap((a) => [a, ' ']))));
      });
    }
    show(...head,
      section('Target', dl([['asked about', t.name + (t.kind === 'vendor' ? ' (' + t.id + ', ' + (t.category || '') + ', headquarters ' + (t.headquarters || '—') + ')' : ' (' + t.kind + ')')], ['note', t.note],
        ['window', fmtTime(x.since) + ' to ' + fmtTime(x.until)], ['supply chain followed', x.max_depth + ' links' + (x.verified_only ? ', verified only' : '')]])),
      section('Ways data reaches ' + t.id, el('ul', { id: 'paths' }, paths), (x.paths || []).length || t.kind === 'host' ? null : note('No catalog vendor passes data to it.')),
      section('Flows', el('p', { class: 'summary', id: 'exposure-summary', text: fmtInt(x.totals.requests) + ' flows from ' + fmtInt(x.totals.clients) + ' clients may have reached ' + t.id + ': ' +
          fmtInt(x.totals.direct) + ' directly, ' + fmtInt(x.totals.indirect) + ' through the supply chain; ' + fmtInt(x.totals.flows_with_findings) + ' carried findings' + (mapText(x.totals.findings) ? ' (' + mapText(x.totals.findings) + ')' : '') + '.' +
          (x.totals.actions && x.totals.actions.block ? ' customs blocked ' + fmtInt(x.totals.actions.block) + ' of them (nothing of those left), ' + fmtInt(x.totals.blocked_with_findings || 0) + ' with findings: ' +
            fmtInt((x.totals.flows_with_findings || 0) - (x.totals.blocked_with_findings || 0)) + ' with findings left.' : '') }),
        rows.length ? table(['client', 'route', 'flows', 'blocked', 'first', 'last', 'findings', 'found (masked)', 'flows with findings'], rows) : null));
  }

  // ---- rules ------------------------------------------------------------------------------

  async function pageRules() {
    const { body: r } = await api('/ui/api/rules');
    const last = r.last_reload;
    const builtin = (r.detectors || []).filter((d) => !d.custom).length;
    const custom = (r.detectors || []).filter((d) => d.custom);
    show(
      el('h1', { text: 'Rules in force' }),
      section('Loaded', dl([['from', r.from], ['files', r.files.join(', ')], ['loaded', fmtTime(r.loaded)], ['watched', r.watch ? 'every ' + r.watch + ', and on SIGHUP' : 'on SIGHUP'],
        ['reloads', fmtInt(r.reloads) + ' taken, ' + fmtInt(r.failures) + ' rejected'], ['rule tests', r.tests], ['vendors added', (r.vendors || []).join(', ')]])),
      last ? section('Last reload', dl([['at', fmtTime(last.at)], ['trigger', last.trigger], ['result', last.ok ? 'taken' : 'rejected: the rules above stay in force']]),
        (last.errors || []).length ? el('pre', { class: 'body errors', id: 'reload-errors', text: last.errors.join('\n') }) : null) : null,
      section('Policies (' + r.policies.length + '), in order', r.policies.length
        ? table(['policy', 'action', 'when', 'message', 'continue', 'defined at'], r.policies.map((p) => el('tr', {},
          el('td', { class: 'mono', text: p.id }), el('td', {}, badge(p.action)), el('td', {}, el('code', { class: 'wrap', text: p.when })),
          el('td', { text: p.message || '' }), el('td', { text: p.continue ? 'yes' : '' }), el('td', { class: 'mono', text: p.at || 'embedded' }))))
        : note('No policies: every flow is allowed (the rule files say "policies: []").')),
      section('Detectors', note(builtin + ' built-in detectors' + (custom.length ? ', and ' + custom.length + ' from the rule files:' : '.')),
        custom.length ? table(['detector', 'class', 'severity'], custom.map((d) => el('tr', {}, el('td', { class: 'mono', text: d.id }), el('td', { text: d.class }), el('td', { text: d.severity })))) : null));
  }

  // ---- catalog ----------------------------------------------------------------------------

  async function pageCatalog(params) {
    const { body } = await api('/ui/api/catalog');
    const search = el('input', { type: 'search', id: 'catalog-search', placeholder: 'filter vendors', value: params.get('q') || '', size: 30 });
    const tbody = el('tbody');
    const render = () => {
      const s = search.value.trim().toLowerCase();
      tbody.replaceChildren(...body.vendors.filter((v) => !s || (v.id + ' ' + v.name + ' ' + v.category).toLowerCase().includes(s)).map((v) => el('tr', {},
        el('td', {}, el('a', { href: '#/catalog/' + encodeURIComponent(v.id), class: 'mono', text: v.id })),
        el('td', { text: v.name + (v.operator ? ' (configuration)' : '') }),
        el('td', { text: v.category + (v.subcategory ? ' / ' + v.subcategory : '') }),
        el('td', { text: (v.headquarters || '—') + (v.headquarters && !v.headquarters_verified ? ' (not verified)' : '') }),
        el('td', { class: 'num', text: v.hosts }), el('td', { class: 'num', text: v.endpoints }),
        el('td', { class: 'num', text: v.subprocessors }), el('td', { class: 'num', text: v.edges }), el('td', { class: 'num', text: v.sources }))));
    };
    search.addEventListener('input', render);
    render();
    show(el('h1', { text: 'Vendor catalog' }),
      note(body.vendors.length + ' vendors: the embedded catalog with the configuration\'s additions. Categories: ' + body.categories.join(', ') + '.'),
      el('div', { class: 'bar' }, search),
      el('table', { class: 'grid', id: 'catalog' }, el('thead', {}, el('tr', {}, ['vendor', 'name', 'category', 'headquarters', 'hosts', 'endpoints', 'subprocessors', 'supply-chain links', 'sources'].map((h) => el('th', { text: h })))), tbody));
  }

  function sourceLinks(sources) {
    return (sources || []).map((s) => (typeof s === 'string' ? { url: s } : s)).map((s) => el('div', {}, el('a', { href: s.url, text: s.url }), s.note ? el('span', { class: 'muted', text: ' — ' + s.note }) : null));
  }

  async function pageVendor(id) {
    const { body: v } = await api('/ui/api/catalog/' + encodeURIComponent(id));
    const sp = v.subprocessors;
    show(
      el('h1', { text: v.name }),
      el('p', {}, el('a', { href: '#/flows?vendor=' + encodeURIComponent(v.id), text: 'flows to ' + v.id }), ' · ',
        el('a', { href: '#/exposure?vendor=' + encodeURIComponent(v.id), text: 'exposure to ' + v.id }), ' · ', el('a', { href: '#/catalog', text: 'all vendors' })),
      section('Vendor', dl([['id', v.id], ['category', v.category + (v.subcategory ? ' / ' + v.subcategory : '')],
        ['headquarters', (v.headquarters || '—') + (v.headquarters_verified ? ' (verified)' : ' (not verified)') + (v.headquarters_note ? ' — ' + v.headquarters_note : '')],
        ['jurisdiction', v.jurisdiction_notes], ['authentication', v.auth], ['transport', v.transport]])),
      section('Hosts (' + (v.hosts || []).length + ')', table(['host', 'match', 'role', 'verified'], (v.hosts || []).map((h) => el('tr', {},
        el('td', { class: 'mono', text: h.pattern }), el('td', { text: h.match }), el('td', { text: h.role || '' }), el('td', { text: h.verified ? 'yes' : 'no' }))))),
      (v.endpoints || []).length ? section('Endpoints (' + v.endpoints.length + ')', table(['method', 'path', 'prompt fields', 'verified'], v.endpoints.map((e) => el('tr', {},
        el('td', { text: e.method }), el('td', { class: 'mono wrap', text: e.path }), el('td', { class: 'mono wrap', text: (e.prompt_fields || []).join(', ') }), el('td', { text: e.verified ? 'yes' : 'no' }))))) : null,
      section('Subprocessors', sp ? el('div', {},
        sp.source ? el('p', {}, 'Published list: ', el('a', { href: sp.source, text: sp.source }), sp.version_seen ? ' (' + sp.version_seen + ')' : '') : null,
        sp.status ? note(sp.status) : null, sp.notes ? note(sp.notes) : null,
        (sp.entries || []).length ? table(['name', 'purpose', 'where'], sp.entries.map((e) => el('tr', {},
          el('td', { text: e.name }), el('td', { text: e.purpose || '' }), el('td', { text: (e.countries || []).join(', ') || e.location || '' })))) : null)
        : note('not looked up')),
      section('Supply-chain links (' + v.edges.length + ')', v.edges.length ? table(['from', 'to', 'kind', 'verified', 'detail', 'sources'], v.edges.map((e) => el('tr', {},
        el('td', { class: 'mono', text: e.from }), el('td', { class: 'mono', text: e.to }), el('td', { text: e.kind }), el('td', { text: e.verified ? 'yes' : 'no' }),
        el('td', { text: e.detail || '' }), el('td', {}, sourceLinks(e.sources))))) : note('none')),
      section('Sources', (v.sources || []).length ? sourceLinks(v.sources) : note('none')));
  }

  // ---- start ------------------------------------------------------------------------------

  window.addEventListener('hashchange', async () => { await refreshSession(); route(); });
  refreshSession().then(route);
})();
