// The peer for side-by-side benchmarks: the same request format as lstmcast's forecast API, one session.run per
// request, no batching. Usage: node server.js MODEL.onnx PORT
'use strict';
const http = require('http');
const ort = require('onnxruntime-node');

const [modelPath, portText] = process.argv.slice(2);
const port = Number(portText || 8090);

async function main() {
  // One intra-op thread: small models on many concurrent requests run best without ORT's own thread pool.
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const server = http.createServer((req, res) => {
    if (req.url === '/v2/health/ready') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 14 });
      res.end('{"ready":true}');
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const windows = body.inputs;
        const steps = windows[0].length;
        const data = new Float32Array(windows.length * steps);
        windows.forEach((w, i) => data.set(w, i * steps));
        const result = await session.run({ [inputName]: new ort.Tensor('float32', data, [windows.length, steps, 1]) });
        const out = result[outputName];
        const horizon = out.dims[1];
        const forecasts = [];
        for (let i = 0; i < windows.length; i++) {
          forecasts.push(Array.from(out.data.subarray(i * horizon, (i + 1) * horizon)));
        }
        const text = JSON.stringify({ model_name: 'peer', model_version: '1', forecasts });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      } catch (e) {
        const text = JSON.stringify({ error: String(e.message || e) });
        res.writeHead(400, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      }
    });
  });
  server.keepAliveTimeout = 65000;
  server.listen(port, '127.0.0.1', () => console.log(`node-ort peer on http://127.0.0.1:${port}`));
}

main().catch((e) => { console.error(e); process.exit(1); });
