'use strict';
// The page: talks to the worker through promises, draws the summary, the
// charts and the budget control, and assembles outputs as Blobs.

class Shark {
  constructor() { this.seq = 0; this.calls = new Map(); this.file = null; this.start(); }
  start() {
    this.worker = new Worker('worker.js');
    this.worker.onmessage = (e) => this.message(e.data);
    this.worker.onerror = (e) => { for (const c of this.calls.values()) c.reject(new Error('the worker failed: ' + (e.message || 'unknown error'))); this.calls.clear(); };
  }
  message(m) {
    const c = this.calls.get(m.id);
    if (!c) return;
    if (m.progress) { c.onProgress && c.onProgress(m.progress); return; }
    if (m.chunk) { c.chunks.push(m.chunk); return; }
    this.calls.delete(m.id);
    this.memory = m.memory;
    if (m.ok) c.resolve({ result: m.result, chunks: c.chunks }); else c.reject(new Error(m.error));
  }
  call(op, args, onProgress) {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject, onProgress, chunks: [] });
      this.worker.postMessage({ id, op, args });
    });
  }
  async open(file) { this.file = file; this.summary = (await this.call('open', [file])).result; return this.summary; }
  inspect() { return Promise.resolve(this.summary); }
  async plan(opts, onProgress) { return (await this.call('plan', [opts], onProgress)).result; }
  async compress(opts, onProgress) {
    const { result, chunks } = await this.call('compress', [opts], onProgress);
    return { result, blob: new Blob(chunks, { type: 'application/octet-stream' }) };
  }
  async norms(name, bins) { return (await this.call('norms', [name, bins])).result; }
  async exportAs(to, layout) {
    const { result, chunks } = await this.call('export', [to, layout]);
    return { size: result.size, blob: new Blob(chunks, { type: 'application/octet-stream' }) };
  }
  async workerMemory() { await this.call('memory', []); return this.memory; }
  // cancel stops whatever the worker is doing by replacing it, then opens
  // the same file again in the new one.
  async cancel() {
    this.worker.terminate();
    for (const c of this.calls.values()) c.reject(new Error('cancelled'));
    this.calls.clear();
    this.start();
    if (this.file) await this.open(this.file);
  }
}

const $ = (id) => document.getElementById(id);
window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.blockedURI + ' ' + e.violatedDirective));
const shark = new Shark();
window.shark = shark; // for tests and the curious
const TIERS = ['fp32', 'fp16', 'int8', 'int4'];

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'style') Object.assign(e.style, v); // CSSOM: allowed by the page's content security policy
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
}
function showError(msg) { const e = $('error'); e.textContent = msg; e.hidden = !msg; }
function busy(label) {
  $('busy').hidden = !label;
  if (label) { $('busy-label').textContent = label; $('progress').removeAttribute('value'); }
}
function onProgress(p) {
  $('busy-label').textContent = `${p.stage}: ${p.done.toLocaleString()} of ${p.total.toLocaleString()} rows`;
  $('progress').value = p.total ? p.done / p.total : 0;
}
function tierBar(t) {
  const total = TIERS.reduce((s, k) => s + (t[k] || 0), 0) || 1;
  const bar = el('div', { class: 'tierbar', role: 'img', 'aria-label': TIERS.map((k) => `${k} ${t[k] || 0}`).join(', ') });
  for (const k of TIERS) {
    if (t[k]) bar.append(el('span', { style: { width: `${100 * t[k] / total}%`, background: `var(--${k})` }, title: `${k}: ${t[k].toLocaleString()} rows` }));
  }
  return bar;
}
function legend() {
  return el('div', { class: 'legend' }, ...TIERS.map((k) => el('span', {}, el('i', { style: { background: `var(--${k})` } }), k)));
}
function histogram(h) {
  const W = 300, H = 90, n = h.counts.length, top = Math.max(1, ...h.counts);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H + 16}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Row L2 norms from ${h.min.toPrecision(3)} to ${h.max.toPrecision(3)} over ${h.sampled} rows`);
  h.counts.forEach((c, i) => {
    const r = document.createElementNS(ns, 'rect');
    const bh = H * c / top;
    r.setAttribute('x', (i * W / n + 0.5).toFixed(1)); r.setAttribute('width', (W / n - 1).toFixed(1));
    r.setAttribute('y', (H - bh).toFixed(1)); r.setAttribute('height', bh.toFixed(1));
    r.setAttribute('fill', '#3a8dde');
    svg.append(r);
  });
  for (const [x, v, a] of [[0, h.min, 'start'], [W, h.max, 'end']]) {
    const t = document.createElementNS(ns, 'text');
    t.setAttribute('x', x); t.setAttribute('y', H + 13); t.setAttribute('text-anchor', a);
    t.textContent = v.toPrecision(3);
    svg.append(t);
  }
  return svg;
}

async function openFile(file) {
  showError('');
  delete $('plan-rows').dataset.measured;
  for (const id of ['summary', 'tables', 'compress', 'export', 'result']) $(id).hidden = true;
  busy(`Opening ${file.name}…`);
  let s;
  try { s = await shark.open(file); } catch (e) { busy(''); showError(`Could not open ${file.name}: ${e.message}`); return; }
  busy('');
  $('file-title').textContent = s.name;
  $('file-facts').textContent = s.facts;
  const body = $('tensor-rows');
  body.replaceChildren();
  for (const t of s.tensors) {
    const role = t.tiers ? el('span', {}, el('span', { class: 'badge', text: t.role }), tierBar(t.tiers)) : t.table ? el('span', { class: 'badge', text: t.role }) : el('span', { class: 'muted', text: t.role });
    body.append(el('tr', {}, el('td', {}, el('code', { text: t.name })), el('td', { text: t.shape_text }),
      el('td', { text: t.dtype }), el('td', { class: 'num', text: t.size }), el('td', {}, role)));
  }
  $('summary').hidden = false;
  const tables = s.tensors.filter((t) => t.table);
  const cards = $('table-cards');
  cards.replaceChildren();
  for (const t of tables) {
    const card = el('div', { class: 'card' }, el('h3', { text: t.name }), el('p', { class: 'sub', text: `${t.shape_text} · ${t.size}` }));
    if (t.tiers) card.append(tierBar(t.tiers), legend());
    const chart = el('div', { class: 'muted', text: 'row norms…' });
    card.append(el('p', { class: 'sub', text: 'Row L2 norms' }), chart);
    cards.append(card);
    shark.norms(t.name, 40).then((h) => chart.replaceWith(histogram(h))).catch((e) => { chart.textContent = 'row norms unavailable: ' + e.message; });
  }
  $('tables').hidden = tables.length === 0;
  if (s.format === 'shark') { $('export').hidden = false; return; }
  if (tables.length === 0) { showError('No embedding table here: shark compresses 2-D float tensors with at least 1,000 rows.'); return; }
  $('compress').hidden = false;
  // Predicting sizes reads every row once; on large tables wait to be asked.
  if (s.tables_fp32 <= 256 * 1024 * 1024) { await replan(); return; }
  const measure = el('button', { class: 'button secondary', type: 'button', text: `Measure ${s.tables_fp32_size} of tables to predict sizes` });
  measure.addEventListener('click', replan);
  $('plan-rows').replaceChildren(el('tr', {}, el('td', { colspan: '6' }, measure)));
}

// options are the page's compress.Settings; shark.created, when a test or
// a user sets it, is the creation time to record (Unix seconds), as
// SOURCE_DATE_EPOCH is for the CLI.
function options() {
  const o = { budget: Number($('budget').value) / 100, no_int4: $('no-int4').checked };
  if (shark.created) o.created = shark.created;
  return o;
}
let planning = null;
async function replan() {
  $('budget-out').value = $('budget').value + '%';
  const mine = planning = {};
  if (!$('plan-rows').dataset.measured) busy('Measuring every row in every tier…');
  let p;
  try { p = await shark.plan(options(), onProgress); } catch (e) {
    if (mine !== planning) return;
    busy(''); showError(e.message === 'cancelled' ? 'Measuring cancelled.' : e.message); $('go').disabled = true; return;
  }
  if (mine !== planning) return;
  busy(''); showError(''); $('go').disabled = false;
  $('plan-rows').dataset.measured = '1';
  const body = $('plan-rows');
  body.replaceChildren();
  const total = p.rows[p.rows.length - 1];
  for (const t of p.rows.slice(0, -1)) {
    body.append(el('tr', {}, el('td', {}, el('code', { text: t.name })), el('td', { class: 'num', text: t.fp32 }),
      el('td', { class: 'num', text: t.stored }), el('td', { class: 'num', text: t.share }),
      el('td', {}, tierBar(t.tiers)), el('td', { class: 'num', text: t.rmse })));
  }
  body.append(el('tr', {}, el('td', {}, el('strong', { text: total.name })), el('td', { class: 'num', text: total.fp32 }),
    el('td', { class: 'num', text: total.stored }), el('td', { class: 'num', text: total.share }), el('td', {}, legend()), el('td')));
}

let resultBlob = null;
async function compress() {
  showError('');
  $('go').disabled = true;
  busy('Compressing…');
  try {
    const { result, blob } = await shark.compress(options(), onProgress);
    resultBlob = blob;
    const name = shark.file.name.replace(/\.(npz|npy|safetensors|pt|pth|bin|onnx)$/i, '') + '.shark';
    const a = $('download');
    if (a.href) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.textContent = `Download ${name} (${result.output_size})`;
    $('result-text').textContent = `Done in ${result.seconds.toFixed(2)} s: ${result.input_size} → ${result.output_size}.`;
    $('result').hidden = false;
    a.click();
  } catch (e) {
    showError(e.message === 'cancelled' ? 'Compression cancelled.' : e.message);
  } finally { busy(''); $('go').disabled = false; }
}

async function exportAs(to) {
  showError('');
  busy(`Exporting to ${to}…`);
  try {
    const { size, blob } = await shark.exportAs(to, $('layout').value);
    const a = $('export-link');
    if (a.href) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(blob);
    a.download = shark.file.name.replace(/\.shark$/i, '') + '.' + to;
    a.textContent = `Download ${a.download} (${size})`;
    a.hidden = false;
  } catch (e) { showError(e.message); } finally { busy(''); }
}

const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault(); drop.classList.remove('over');
  const f = e.dataTransfer && e.dataTransfer.files[0];
  if (f) openFile(f);
});
drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('file').click(); } });
$('file').addEventListener('change', (e) => { if (e.target.files[0]) openFile(e.target.files[0]); });
$('budget').addEventListener('input', () => { $('budget-out').value = $('budget').value + '%'; });
$('budget').addEventListener('change', replan);
$('no-int4').addEventListener('change', replan);
$('go').addEventListener('click', compress);
$('cancel').addEventListener('click', async () => { busy('Cancelling…'); await shark.cancel(); busy(''); });
$('open-result').addEventListener('click', () => {
  if (resultBlob) openFile(new File([resultBlob], $('download').download));
});
for (const b of document.querySelectorAll('.export')) b.addEventListener('click', () => exportAs(b.dataset.to));
