// A plain reverse proxy on node's own http module (no SDK, no tracing
// code): every request goes to the upstream with its headers, over a
// keep-alive agent, and the answer comes back as it is.
//   node node_proxy.js UPSTREAM_URL READY_FILE
'use strict';
const fs = require('fs');
const http = require('http');

const [upstream, readyFile] = process.argv.slice(2);
const target = new URL(upstream);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

const server = http.createServer((req, res) => {
  const headers = { ...req.headers };
  delete headers.connection;
  const out = http.request({
    host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent,
  }, (answer) => {
    const back = { ...answer.headers };
    delete back.connection;
    delete back['keep-alive'];
    res.writeHead(answer.statusCode, back);
    answer.pipe(res);
  });
  out.on('error', (err) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(String(err) + '\n');
  });
  req.pipe(out);
});

server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(readyFile + '.tmp', server.address().port + '\n');
  fs.renameSync(readyFile + '.tmp', readyFile);
});
process.on('SIGTERM', () => process.exit(0));
