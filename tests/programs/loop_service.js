// An event-loop service on node's own http module (no SDK, no tracing code):
// GET /id/N calls the backend with ?id=N over a keep-alive agent and answers
// "N STATUS". Everything runs on node's one event loop thread.
//   node loop_service.js service BACKEND_URL READY_FILE [--async-step] [--background-ms MS]
//   node loop_service.js backend READY_FILE   (answers "ok URL TRACEPARENT")
//   node loop_service.js get URL              (one request, its answer printed)
// --async-step: the handler awaits a timer and a promise before its call.
// --background-ms: a timer that calls the backend (?id=bgK) every MS ms,
// on behalf of no request.
'use strict';
const fs = require('fs');
const http = require('http');

function ready(server, readyFile) {
  fs.writeFileSync(readyFile + '.tmp', server.address().port + '\n');
  fs.renameSync(readyFile + '.tmp', readyFile);
}

const mode = process.argv[2];
if (mode === 'backend') {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok ' + req.url + ' ' + (req.headers.traceparent || '-') + '\n');
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => ready(server, process.argv[3]));
} else if (mode === 'get') {
  http.get(process.argv[3], (answer) => {
    let body = '';
    answer.on('data', (d) => { body += d; });
    answer.on('end', () => process.stdout.write(body));
  });
} else {
  const [backend, readyFile, ...opts] = process.argv.slice(3);
  const asyncStep = opts.includes('--async-step');
  const bgAt = opts.indexOf('--background-ms');
  const target = new URL(backend);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const call = (id) => new Promise((resolve) => {
    const out = http.get({ host: target.hostname, port: target.port, path: '/status/200?id=' + id, agent },
      (answer) => {
        answer.resume();
        answer.on('end', () => resolve(answer.statusCode));
      });
    out.on('error', (err) => resolve('error ' + err.code));
  });
  const server = http.createServer(async (req, res) => {
    const m = /^\/id\/([^/?]+)/.exec(req.url);
    if (!m) {
      res.writeHead(404);
      res.end();
      return;
    }
    if (asyncStep) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await Promise.resolve();
    }
    const status = await call(m[1]);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(m[1] + ' ' + status + '\n');
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => ready(server, readyFile));
  if (bgAt >= 0) {
    let k = 0;
    setInterval(() => { call('bg' + (++k)); }, Number(opts[bgAt + 1]));
  }
}
process.on('SIGTERM', () => process.exit(0));
