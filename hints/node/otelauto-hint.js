// otelauto's runtime hint for node (README "Runtime hints"). Loaded with
// --require, which libotelauto.so adds to NODE_OPTIONS: node runs the
// handlers of many requests on its one thread, so the shim cannot tell from
// the thread which request an outgoing call is made for; node itself knows,
// through AsyncLocalStorage. This module keeps, for the code an incoming
// request's 'request' event runs (and everything it schedules), a
// placeholder traceparent naming that request by its connection's file
// descriptor, its peer port and its number on the connection; an outgoing
// http/https request made there carries it, and the shim replaces it with
// its client span's own traceparent, parented to that request; a request
// made for none carries a placeholder that says so.
// No SDK, no spans; a program that sets its own traceparent is left alone.
// Without the shim in the process (/proc/self/maps) it does nothing.
'use strict';
(function otelautoHint() {
  let shim = false;
  try {
    shim = require('fs').readFileSync('/proc/self/maps', 'latin1').includes('libotelauto');
  } catch (e) {
    return;
  }
  if (!shim) return;
  const { AsyncLocalStorage } = require('async_hooks');
  const dc = require('diagnostics_channel');
  const http = require('http');
  const store = new AsyncLocalStorage();
  const counted = Symbol('otelauto.requests');
  const hex = (n, width) => (n % (2 ** (4 * width))).toString(16).padStart(width, '0');

  function placeholder(req) {
    const socket = req.socket;
    const fd = socket && socket._handle && socket._handle.fd;
    const port = socket && socket.remotePort;
    if (!Number.isInteger(fd) || fd < 0 || fd > 0xffffff || !Number.isInteger(port)) return undefined;
    socket[counted] = (socket[counted] || 0) + 1;
    return '00-' + '0'.repeat(32) + '-' + hex(fd, 6) + hex(port, 4) + hex(socket[counted], 6) + '-00';
  }

  // Made for no request (a timer, a job started at start-up) by a process
  // that serves http: the placeholder that says so, so that the shim does
  // not take one of the requests the thread holds for its parent. From the
  // first http server's 'listening' on (a call made before it, whose head
  // is written once its connection is up, may be written while a request
  // is open); a process with no http server (a command-line tool) gets
  // nothing.
  const none = '00-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-00';
  let serving = false;

  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function otelautoEmit(event, req) {
    if (event === 'listening') serving = true;
    if (event !== 'request') return emit.apply(this, arguments);
    serving = true;
    const value = placeholder(req);
    if (value === undefined) return emit.apply(this, arguments);
    const args = arguments;
    return store.run(value, () => emit.apply(this, args));
  };
  // http.request and http.get: the arguments with a traceparent header
  // added, in a copy of the options (the caller's object is not touched),
  // unless the program sets its own or gives its headers as a raw array.
  // Not https: node's TLS is its own OpenSSL, which the shim does not see,
  // so no one would replace the placeholder.
  function withPlaceholder(args) {
    const value = store.getStore() || (serving ? none : undefined);
    if (value === undefined) return args;
    const out = Array.prototype.slice.call(args);
    let at = 0;
    if (typeof out[0] === 'string' || out[0] instanceof URL) {
      if (out[1] === undefined || typeof out[1] === 'function') out.splice(1, 0, {});
      at = 1;
    }
    const options = out[at];
    if (options === null || typeof options !== 'object') return args;
    const headers = options.headers;
    if (Array.isArray(headers)) return args;
    if (headers && Object.keys(headers).some((k) => k.toLowerCase() === 'traceparent')) return args;
    out[at] = Object.assign({}, options, { headers: Object.assign({}, headers, { traceparent: value }) });
    return out;
  }
  const request = http.request;
  const get = http.get;
  http.request = function request_() { return request.apply(this, withPlaceholder(arguments)); };
  http.get = function get_() { return get.apply(this, withPlaceholder(arguments)); };
  // fetch (undici), over http only (as above)
  dc.subscribe('undici:request:create', (message) => {
    const value = store.getStore() || (serving ? none : undefined);
    const out = message && message.request;
    if (value === undefined) return;
    if (!out || typeof out.addHeader !== 'function' || !/^http:/.test(String(out.origin))) return;
    const headers = out.headers;
    if (typeof headers === 'string' && /(^|\r\n)traceparent:/i.test(headers)) return;
    if (Array.isArray(headers) && headers.some((h, i) => i % 2 === 0 && String(h).toLowerCase() === 'traceparent')) return;
    out.addHeader('traceparent', value);
  });
})();
