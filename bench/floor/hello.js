// The machine's floor in Node.js: reads each request's body and answers a fixed forecast, no model behind it.
//   node bench/floor/hello.js PORT
const http = require('http');
const body = JSON.stringify({ forecast: [[0, 0, 0, 0, 0]] });
http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(Number(process.argv[2]), '127.0.0.1');
