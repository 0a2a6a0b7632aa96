// Runs ONNX models under ONNX Runtime (onnxruntime-node) for
// TestONNXRuntime: node ort_run.js MODEL.onnx INPUTS.json OUT.json.
// INPUTS maps each input's name to {dims, data} (int64 ids); OUT gets each
// output's {dims, type, data}: float32 values as numbers, float16 values as
// their bit patterns.
const fs = require("fs");
const ort = require("onnxruntime-node");
(async () => {
  const [model, inPath, outPath] = process.argv.slice(2);
  const spec = JSON.parse(fs.readFileSync(inPath, "utf8"));
  const feeds = {};
  for (const [name, v] of Object.entries(spec)) {
    feeds[name] = new ort.Tensor("int64", BigInt64Array.from(v.data.map(BigInt)), v.dims);
  }
  const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const res = await session.run(feeds);
  const out = {};
  for (const [name, t] of Object.entries(res)) {
    out[name] = { dims: t.dims, type: t.type, data: Array.from(t.data, Number) };
  }
  fs.writeFileSync(outPath, JSON.stringify(out));
})().catch((e) => {
  console.error(String((e && e.stack) || e));
  process.exit(1);
});
