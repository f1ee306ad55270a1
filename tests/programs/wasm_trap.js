// node's WebAssembly trap handler at work in a request
// (tests/integration/36-crash.bats): a wasm load out of its memory's bounds
// faults (SIGSEGV in V8's guard region), V8's trap handler turns the fault
// into a RuntimeError. Three of them while a GET to http://127.0.0.1:PORT/slow
// is in flight, then the answer; prints "traps=N status=S".
//
//   node wasm_trap.js PORT
'use strict';
const http = require('http');

// (module (memory 1) (func (export "load") (param i32) (result i32)
//   local.get 0 i32.load))
const bytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
  0x03, 0x02, 0x01, 0x00,
  0x05, 0x03, 0x01, 0x00, 0x01,
  0x07, 0x08, 0x01, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x00,
  0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b,
]);
const load = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.load;

const req = http.get({host: '127.0.0.1', port: Number(process.argv[2]), path: '/slow?ms=300'}, (res) => {
  res.resume();
  res.on('end', () => console.log(`traps=${traps} status=${res.statusCode}`));
});
let traps = 0;
req.on('finish', () => { // the request is written: its span is open
  for (let i = 0; i < 3; i++) {
    try {
      load(0x40000000 + i * 4096); // 1 GiB into the guard region: a fault
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) traps++;
    }
  }
});
