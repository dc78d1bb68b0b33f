// customs run's Node preload (NODE_OPTIONS=--require): routes the http and https modules and
// fetch through the proxy in HTTPS_PROXY, for Node versions that ignore NODE_USE_ENV_PROXY
// (before 22.21 and 24.5). Every connection is a CONNECT tunnel, cleartext HTTP included: customs
// opens cleartext inside a CONNECT and reads it like any other request.
'use strict';

(function () {
  const proxyEnv = process.env.HTTPS_PROXY || process.env.https_proxy || process.env.HTTP_PROXY || process.env.http_proxy;
  if (!proxyEnv || globalThis.__customsRunPreload) return;
  const [major, minor] = process.versions.node.split('.').map(Number);
  const native = (major === 22 && minor >= 21) || (major === 24 && minor >= 5) || major >= 25;
  if (native) return; // NODE_USE_ENV_PROXY=1 does it
  globalThis.__customsRunPreload = true;

  const net = require('net');
  const tls = require('tls');
  const http = require('http');
  const https = require('https');
  const zlib = require('zlib');
  const { Readable } = require('stream');

  const proxy = new URL(proxyEnv);
  const auth = proxy.username
    ? 'Basic ' + Buffer.from(decodeURIComponent(proxy.username) + ':' + decodeURIComponent(proxy.password)).toString('base64')
    : null;
  const noProxy = (process.env.NO_PROXY || process.env.no_proxy || '').split(',').map((s) => s.trim().replace(/^\./, '')).filter(Boolean);
  const bypass = (host) => noProxy.some((n) => n === '*' || host === n || host.endsWith('.' + n));

  // tunnel opens a CONNECT tunnel to host:port and calls cb with the raw socket.
  function tunnel(host, port, cb) {
    const sock = net.connect(Number(proxy.port) || 80, proxy.hostname);
    let head = '';
    const onData = (d) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.removeListener('data', onData);
      sock.removeListener('error', onError);
      if (!/^HTTP\/1\.[01] 2\d\d/.test(head)) {
        sock.destroy();
        cb(new Error('customs: the proxy refused CONNECT ' + host + ':' + port + ': ' + head.split('\r\n')[0]));
        return;
      }
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      if (rest.length) sock.unshift(rest);
      cb(null, sock);
    };
    const onError = (err) => cb(err);
    sock.on('data', onData);
    sock.once('error', onError);
    sock.once('connect', () => {
      const target = net.isIPv6(host) ? '[' + host + ']:' + port : host + ':' + port;
      sock.write('CONNECT ' + target + ' HTTP/1.1\r\nHost: ' + target + '\r\n' + (auth ? 'Proxy-Authorization: ' + auth + '\r\n' : '') + '\r\n');
    });
  }

  class HTTPSAgent extends https.Agent {
    createConnection(options, cb) {
      const host = options.host || options.hostname || 'localhost';
      if (bypass(host)) return super.createConnection(options, cb);
      tunnel(host, options.port || 443, (err, sock) => {
        if (err) return cb(err);
        const t = tls.connect({ ...options, socket: sock, servername: options.servername || (net.isIP(host) ? undefined : host) });
        cb(null, t);
      });
    }
  }
  class HTTPAgent extends http.Agent {
    createConnection(options, cb) {
      const host = options.host || options.hostname || 'localhost';
      if (bypass(host)) return super.createConnection(options, cb);
      tunnel(host, options.port || 80, cb);
    }
  }
  // No keep-alive: an idle tunnel would hold the event loop and the process would not exit.
  const httpsAgent = new HTTPSAgent({ keepAlive: false });
  const httpAgent = new HTTPAgent({ keepAlive: false });
  https.globalAgent = httpsAgent;
  http.globalAgent = httpAgent;

  const nativeFetch = globalThis.fetch;
  if (!nativeFetch) return;

  // fetch through the agents above: the same Request/Response objects, bodies streamed back.
  async function customsFetch(input, init) {
    const req = new Request(input, init);
    const u = new URL(req.url);
    if ((u.protocol !== 'https:' && u.protocol !== 'http:') || bypass(u.hostname)) return nativeFetch(input, init);
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
    const headers = {};
    req.headers.forEach((v, k) => { headers[k] = v; });
    if (!headers['accept-encoding']) headers['accept-encoding'] = 'gzip, deflate, br';
    const res = await new Promise((resolve, reject) => {
      const mod = u.protocol === 'https:' ? https : http;
      const r = mod.request(u, { method: req.method, headers, agent: u.protocol === 'https:' ? httpsAgent : httpAgent }, resolve);
      r.on('error', reject);
      if (req.signal) {
        if (req.signal.aborted) r.destroy(req.signal.reason);
        req.signal.addEventListener('abort', () => r.destroy(req.signal.reason), { once: true });
      }
      r.end(body);
    });
    const status = res.statusCode;
    if ([301, 302, 303, 307, 308].includes(status) && res.headers.location && req.redirect !== 'manual') {
      res.resume();
      if (req.redirect === 'error') throw new TypeError('fetch: redirect');
      const next = new URL(res.headers.location, u);
      const keep = status === 307 || status === 308;
      return customsFetch(next, { method: keep ? req.method : 'GET', headers: req.headers, body: keep ? body : undefined, redirect: req.redirect, signal: req.signal });
    }
    const out = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (Array.isArray(v)) v.forEach((x) => out.append(k, x));
      else if (v != null) out.set(k, String(v));
    }
    let stream = res;
    const enc = (res.headers['content-encoding'] || '').trim().toLowerCase();
    const decoder = enc === 'gzip' || enc === 'x-gzip' ? zlib.createGunzip() : enc === 'deflate' ? zlib.createInflate() : enc === 'br' ? zlib.createBrotliDecompress() : null;
    if (decoder) {
      stream = res.pipe(decoder);
      out.delete('content-encoding');
      out.delete('content-length');
    }
    const nullBody = [101, 204, 205, 304].includes(status) || req.method === 'HEAD';
    const response = new Response(nullBody ? null : Readable.toWeb(stream), { status, statusText: res.statusMessage, headers: out });
    Object.defineProperty(response, 'url', { value: u.toString() });
    return response;
  }
  globalThis.fetch = customsFetch;
})();
