// The node row of scripts/bench-cpu.bash: a hello-world HTTP/1.1 server
// (keep-alive), the smallest program node serves requests with.
//   node hello_server.js PORT
'use strict';
const http = require('http');
const body = 'hello\n';
http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
    res.end(body);
}).listen(Number(process.argv[2]), '127.0.0.1');
