// The Web Worker that runs shark's wasm core, so the page never freezes.
// Messages in: {id, op, args}. Messages out: {id, progress}, {id, chunk}
// (transferred), and finally {id, ok, result | error, memory}. Jobs run one
// at a time, in the order sent; a cancel is answered at once, and stops
// the running job where it next reports progress.
importScripts('wasm_exec.js');

const go = new Go();
let instance = null;
const ready = WebAssembly.instantiateStreaming(fetch('shark.wasm'), go.importObject).then((r) => {
  instance = r.instance;
  go.run(instance); // sets self.sharkAPI and keeps running
});

function memory() {
  return instance ? instance.exports.mem.buffer.byteLength : 0;
}

async function run({ id, op, args }) {
  const progress = (stage, done, total) => self.postMessage({ id, progress: { stage, done, total } });
  const chunk = (u8) => self.postMessage({ id, chunk: u8 }, [u8.buffer]);
  try {
    await ready;
    let out;
    switch (op) {
      case 'open': out = await sharkAPI.open(args[0]); break;
      case 'counts': out = await sharkAPI.counts(args[0]); break;
      case 'plan': out = await sharkAPI.plan(JSON.stringify(args[0]), progress); break;
      case 'compress': out = await sharkAPI.compress(JSON.stringify(args[0]), progress, chunk); break;
      case 'norms': out = await sharkAPI.norms(args[0], args[1]); break;
      case 'export': out = await sharkAPI.export(args[0], args[1], chunk); break;
      case 'memory': out = 'null'; break;
      default: throw new Error('unknown operation ' + op);
    }
    self.postMessage({ id, ok: true, result: JSON.parse(out), memory: memory() });
  } catch (err) {
    self.postMessage({ id, ok: false, error: String(err && err.message || err), memory: memory() });
  }
}

let queue = Promise.resolve();
self.onmessage = (e) => {
  if (e.data.op === 'cancel') {
    ready.then(() => sharkAPI.cancel());
    return;
  }
  queue = queue.then(() => run(e.data));
};
