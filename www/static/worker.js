// The Web Worker that runs shark's wasm core, so the page never freezes.
// Messages in: {id, op, args}. Messages out: {id, progress}, {id, chunk}
// (transferred), and finally {id, ok, result | error, memory}. Jobs run one
// at a time, in the order sent; a cancel is answered at once, and stops
// the running job where it next reports progress.
//
// The worker the page makes (the primary) makes one helper worker (this
// same script, named "helper") for each other core the browser reports,
// opens every file it opens on them too, and gives them to the wasm core
// as a pool: a plan measures the rows of a large table in even ranges, the
// first here and the others on the helpers, at the same time, and writing
// encodes them so, the primary joining the helpers' parts in row order.
importScripts('wasm_exec.js');

const isHelper = self.name === 'helper';

// lastWords keeps what the Go program printed last: if it ever stops, a
// helper tells the primary why, and the primary the user.
const lastWords = [];
for (const level of ['log', 'error']) {
  const print = console[level].bind(console);
  console[level] = (...a) => { lastWords.push(a.join(' ')); if (lastWords.length > 20) lastWords.shift(); print(...a); };
}

const go = new Go();
let instance = null;
const ready = WebAssembly.instantiateStreaming(fetch('shark.wasm'), go.importObject).then((r) => {
  instance = r.instance;
  self.sharkMemory = instance.exports.mem; // the Go program's SIMD128 kernels share it (wasm/simd.go)
  go.run(instance).then(() => { // the program stopped: it never returns otherwise
    if (isHelper) self.postMessage({ exited: lastWords.join('\n') || 'the program stopped' });
  });
});
const helpers = isHelper ? [] : makeHelpers(Math.min(7, (navigator.hardwareConcurrency || 1) - 1));

function makeHelpers(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const h = { worker: new Worker('worker.js', { name: 'helper' }), next: 1, pending: new Map() };
    h.worker.onmessage = (e) => {
      const { id, progress, ok, result, error, exited } = e.data;
      if (exited !== undefined) { // every question to it fails from now on, saying why
        h.dead = 'worker ' + (i + 2) + ' stopped: ' + exited;
        console.error(h.dead);
        for (const p of h.pending.values()) p.reject(new Error(h.dead));
        h.pending.clear();
        return;
      }
      const p = h.pending.get(id);
      if (!p) return;
      if (progress) { p.progress(progress.done); return; }
      h.pending.delete(id);
      if (ok) p.resolve(result); else p.reject(new Error(error));
    };
    out.push(h);
  }
  return out;
}

// ask sends an operation to helper h; its answer settles the promise.
function ask(h, op, args, progress) {
  const id = h.next++;
  if (h.dead) return Promise.reject(new Error(h.dead));
  return new Promise((resolve, reject) => {
    h.pending.set(id, { resolve, reject, progress: progress || (() => {}) });
    h.worker.postMessage({ id, op, args });
  });
}

if (helpers.length > 0) {
  ready.then(() => sharkAPI.pool(helpers.length,
    (i, settings, table, lo, hi, onProgress) => {
      const measured = ask(helpers[i], 'measureRange', [settings, table, lo, hi], onProgress);
      if (i === helpers.length - 1) normsOn(helpers[i]);
      return measured;
    },
    (i) => helpers[i].worker.postMessage({ op: 'cancel' }),
    (i, table, lo, hi, tiers, onProgress) => ask(helpers[i], 'encodeRange', [table, lo, tiers], onProgress)));
}

// The page asks for a file's norm histograms and then, for a file it
// measures on drop, its plan: a histogram waits here (deferred) when a
// plan was asked after it, and the last helper makes it after its share
// of the measuring, while this Worker assigns the tiers alone, instead of
// this Worker before measuring (0.5-0.9 s of a 256 MiB drop to download).
// What no helper was asked to make by the plan's end is made here.
let plansAsked = 0;
const deferred = [];

// deferNorms keeps a histogram for a plan asked after it. The page posts
// that plan in the same turn as the histograms, but its message can come
// tens of milliseconds later on a busy machine: a histogram no plan
// follows within 100 ms (a file measured when the user asks) is made here.
function deferNorms(id, args, plansBefore) {
  deferred.push({ id, args });
  setTimeout(() => { if (plansAsked === plansBefore) normsHere(); }, 100);
}

// normsHere makes the deferred histograms on this Worker, after its jobs
// queued before.
function normsHere() {
  for (const { id, args } of deferred.splice(0)) queue = queue.then(() => run({ id, op: 'normsHere', args }));
}

// normsOn has helper h make the deferred histograms, each answered when it
// comes; one the helper fails is made here.
function normsOn(h) {
  for (const { id, args } of deferred.splice(0)) {
    ask(h, 'norms', args).then((result) => self.postMessage({ id, ok: true, result, memory: memory() }),
      () => { queue = queue.then(() => run({ id, op: 'normsHere', args })); });
  }
}

// share opens on every helper what the primary opens (in the order the
// primary runs its jobs, so a helper measures the file the plan is of).
function share(op, args) {
  for (const h of helpers) ask(h, op, args).catch(() => {}); // a failure shows when the helper is asked to measure
}

function memory() {
  return instance ? instance.exports.mem.buffer.byteLength : 0;
}

async function run({ id, op, args, plansBefore }) {
  const progress = (stage, done, total) => self.postMessage({ id, progress: { stage, done, total } });
  const chunk = (u8) => self.postMessage({ id, chunk: u8 }, [u8.buffer]);
  try {
    await ready;
    let out;
    switch (op) {
      case 'open': share(op, args); out = await sharkAPI.open(args[0]); break;
      case 'counts': share(op, args); out = await sharkAPI.counts(args[0]); break;
      case 'plan': out = await sharkAPI.plan(JSON.stringify(args[0]), progress); break;
      case 'compress': out = await sharkAPI.compress(JSON.stringify(args[0]), progress, chunk); break;
      case 'norms':
        if (!isHelper && helpers.length > 0) { deferNorms(id, args, plansBefore); return; }
        out = await sharkAPI.norms(args[0], args[1]);
        break;
      case 'normsHere': out = await sharkAPI.norms(args[0], args[1]); break;
      case 'export': out = await sharkAPI.export(args[0], args[1], chunk, progress); break;
      case 'pace': sharkAPI.pace(args[0]); out = 'null'; break; // a test hook: see wasm/main.go
      case 'measureRange': {
        const u8 = await sharkAPI.measureRange(args[0], args[1], args[2], args[3], (done) => progress('measure', done, 0));
        self.postMessage({ id, ok: true, result: u8 }, [u8.buffer]);
        return;
      }
      case 'encodeRange': { // a table's rows lo.. in the tiers given: an array a tier of Uint8Array
        const parts = await sharkAPI.encodeRange(args[0], args[1], args[2], (done) => progress('write', done, 0));
        self.postMessage({ id, ok: true, result: parts }, parts.flat().map((u8) => u8.buffer));
        return;
      }
      case 'memory': out = 'null'; break;
      case 'phases': out = JSON.stringify(sharkAPI.phases()); break; // a test hook: see wasm/phases.go
      case 'kernels': out = JSON.stringify(sharkAPI.kernels); break;
      case 'checkKernels': out = await sharkAPI.checkKernels(args[0]); break; // test hooks: see wasm/simd.go
      case 'checkQuantize': out = await sharkAPI.checkQuantize(args[0]); break;
      default: throw new Error('unknown operation ' + op);
    }
    self.postMessage({ id, ok: true, result: JSON.parse(out), memory: memory() });
  } catch (err) {
    self.postMessage({ id, ok: false, error: String(err && err.message || err), memory: memory() });
  } finally {
    if (op === 'plan' || op === 'compress') normsHere();
  }
}

// A cancel stops the job running. On a helper it also drops the measuring
// asked of it before the cancel and not started yet: the primary stopped
// waiting for it.
let queue = Promise.resolve();
let cancels = 0;
self.onmessage = (e) => {
  if (e.data.op === 'cancel') {
    cancels++;
    ready.then(() => sharkAPI.cancel());
    return;
  }
  const asked = cancels;
  if (e.data.op === 'plan' || e.data.op === 'compress') plansAsked++;
  e.data.plansBefore = plansAsked;
  queue = queue.then(() => {
    if (isHelper && (e.data.op === 'measureRange' || e.data.op === 'encodeRange') && asked !== cancels) {
      self.postMessage({ id: e.data.id, ok: false, error: 'cancelled' });
      return;
    }
    return run(e.data);
  });
};
