'use strict';
// The page: talks to the worker through promises, draws the summary, the
// charts and the budget control, and assembles outputs as Blobs. Every
// piece of state shown belongs to one opened file: opening another cancels
// the running job, and nothing of the first is shown or saved under the
// second's name (the generation number `gen` guards every late answer).

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
  async counts(file) { return (await this.call('counts', [file || null])).result; }
  async plan(opts, onProgress) { return (await this.call('plan', [opts], onProgress)).result; }
  async compress(opts, onProgress) {
    const { result, chunks } = await this.call('compress', [opts], onProgress);
    return { result, blob: new Blob(chunks, { type: 'application/octet-stream' }) };
  }
  async norms(name, bins) { return (await this.call('norms', [name, bins])).result; }
  async exportAs(to, layout, onProgress) {
    const { result, chunks } = await this.call('export', [to, layout], onProgress);
    return { size: result.size, blob: new Blob(chunks, { type: 'application/octet-stream' }) };
  }
  // pace is a test hook: each progress report of later jobs waits ms, so a
  // test acts during a small table's job as a user does during a large one's.
  async pace(ms) { await this.call('pace', [ms]); }
  async workerMemory() { await this.call('memory', []); return this.memory; }
  // cancel stops the running job where it next reports progress; the file
  // and what was measured of it stay (a measurement cut short does not).
  cancel() { this.worker.postMessage({ op: 'cancel' }); }
}

const $ = (id) => document.getElementById(id);
window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.blockedURI + ' ' + e.violatedDirective));
const shark = new Shark();
window.shark = shark; // for tests and the curious
// sw.js keeps the page working offline once loaded; where a browser allows
// no service worker (file://, plain http to a host not this one) the page
// works as before, online.
if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js').catch(() => {});
const TIERS = ['fp32', 'fp16', 'int8', 'int4', 'int2', 'int8-block', 'int4-block', 'int2-block'];
const DEFAULT_TIERS = 4; // the tiers a legend always names; the later ones where rows take them
let gen = 0; // the opened file's generation
let running = null; // the job running: {kind, gen, done: Promise}
let source = null; // the file a result came from, to go back to
let resultFor = null; // {gen, blob, name}: the last result, of this generation only
let countsSet = 0; // counts every change of the access counts, for settingsKey
let writing = null; // the compression running: {gen, key}
let timing = {}; // seconds of the opened file's work before compressing: open, measure

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
// nameEl shows a tensor's name with its distinguishing part, the tail
// (TorchRec's "t_cat_0.weight" of
// "model.sparse_arch.embedding_bag_collection.embedding_bags.t_cat_0.weight"),
// always whole: when the name does not fit, the head before it is cut short
// with an ellipsis, by CSS, at whatever width the page has. The full name is
// its tooltip.
function nameEl(name) {
  const parts = name.split('.');
  const k = Math.min(2, parts.length - 1);
  const tail = k > 0 ? parts.slice(-k).join('.') : name.length > 24 ? name.slice(-12) : name;
  const head = name.slice(0, name.length - tail.length);
  return el('span', { class: 'name', title: name }, el('span', { class: 'nhead', text: head }), el('span', { class: 'ntail', text: tail }));
}
function showError(msg) { const e = $('error'); e.textContent = msg; e.hidden = !msg; }
const fmt = (n) => Number(n).toLocaleString('en-US');
const mib = (n) => `${(n / (1 << 20)).toFixed(1)} MiB`;

// A job's progress shows beside the control that started it: the drop
// area's for opening, the budget's for measuring, the button's for
// compressing, the export's for exporting.
const places = { open: ['busy', 'busy-label', 'progress'], plan: ['plan-busy', 'plan-label', 'plan-progress'],
  compress: ['go-busy', 'go-label', 'go-progress'], export: ['export-busy', 'export-label', 'export-progress'] };
function showBusy(kind, label) {
  const [box, lab, bar] = places[kind];
  $(box).hidden = !label;
  if (label) { $(lab).textContent = label; $(bar).removeAttribute('value'); }
}
function progressTo(kind, my) {
  return (p) => {
    if (my !== gen) return;
    const [, lab, bar] = places[kind];
    $(lab).textContent = kind === 'export' ? `${p.stage}: ${mib(p.done)} of about ${mib(p.total)}`
      : `${p.stage}: ${fmt(p.done)} of ${fmt(p.total)} rows`;
    $(bar).value = p.total ? p.done / p.total : 0;
  };
}
// job runs fn as the one job of its kind for this file's generation.
async function job(kind, label, fn) {
  const my = gen;
  showBusy(kind, label);
  const done = fn(progressTo(kind, my));
  running = { kind, gen: my, done: done.catch(() => {}) };
  try { return await done; } finally {
    if (running && running.done && running.gen === my && running.kind === kind) running = null;
    if (my === gen) showBusy(kind, '');
  }
}
async function stopRunning() {
  if (!running) return;
  shark.cancel();
  await running.done;
  running = null;
}

function tierBar(t) {
  const total = TIERS.reduce((s, k) => s + (t[k] || 0), 0) || 1;
  const bar = el('div', { class: 'tierbar', role: 'img', 'aria-label': TIERS.map((k) => `${k} ${fmt(t[k] || 0)}`).join(', ') });
  for (const k of TIERS) {
    if (t[k]) bar.append(el('span', { style: { width: `${100 * t[k] / total}%`, background: `var(--${k})` }, title: `${k}: ${fmt(t[k])} rows` }));
  }
  return el('div', {}, bar, el('div', { class: 'tiercounts', text: TIERS.filter((k) => t[k]).map((k) => `${k} ${fmt(t[k])}`).join(' · ') }));
}
function legend(...counts) {
  const shown = TIERS.filter((k, i) => i < DEFAULT_TIERS || counts.some((t) => t && t[k]));
  return el('div', { class: 'legend' }, ...shown.map((k) => el('span', {}, el('i', { style: { background: `var(--${k})` } }), k)));
}
const SVG = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
// histogram draws the norms' counts with a y axis (rows), linear or log.
function histogram(h, log) {
  const L = 40, W = 300, H = 90, n = h.counts.length, top = Math.max(1, ...h.counts);
  const scale = (c) => log ? Math.log1p(c) / Math.log1p(top) : c / top;
  const svg = svgEl('svg', { viewBox: `0 -8 ${L + W} ${H + 24}`, role: 'img', // 8 above the plot: the top tick's label
    'aria-label': `Row L2 norms from ${h.min.toPrecision(3)} to ${h.max.toPrecision(3)} over ${h.sampled} rows${log ? ', log scale' : ''}` });
  svg.append(svgEl('line', { x1: L - 2, y1: 0, x2: L - 2, y2: H, stroke: '#9fb3c8' }));
  for (const v of log ? [top, Math.round(Math.sqrt(top)), 1] : [top, Math.round(top / 2), 0]) {
    const y = H - H * scale(v);
    svg.append(svgEl('line', { x1: L - 5, y1: y, x2: L - 2, y2: y, stroke: '#9fb3c8' }));
    svg.append(svgEl('text', { x: L - 7, y: Math.min(H, y + 4), 'text-anchor': 'end' }, fmt(v)));
  }
  h.counts.forEach((c, i) => {
    const bh = H * scale(c);
    svg.append(svgEl('rect', { x: (L + i * W / n + 0.5).toFixed(1), width: (W / n - 1).toFixed(1), y: (H - bh).toFixed(1),
      height: bh.toFixed(1), fill: '#3a8dde' }, undefined));
    svg.lastChild.append(svgEl('title', {}, `${fmt(c)} rows`));
  });
  for (const [x, v, a] of [[L, h.min, 'start'], [L + W, h.max, 'end']]) {
    svg.append(svgEl('text', { x, y: H + 13, 'text-anchor': a }, v.toPrecision(3)));
  }
  return svg;
}

async function openFile(file, from) {
  const my = ++gen;
  source = from || null;
  resultFor = null;
  $('go').disabled = true;
  showError('');
  forgetFile();
  for (const id of ['summary', 'tables', 'compress', 'export', 'result', 'export-link', 'export-note']) $(id).hidden = true;
  for (const k of Object.keys(places)) showBusy(k, '');
  showBusy('open', `Opening ${file.name}…`); // at once: the job before may take a moment to stop
  await stopRunning();
  if (my !== gen) return;
  let s;
  const t0 = performance.now();
  timing = {};
  try { s = await job('open', `Opening ${file.name}…`, () => shark.open(file)); } catch (e) {
    if (my === gen) showError(`Could not open ${file.name}: ${e.message}`);
    return;
  }
  if (my !== gen) return;
  timing.open = (performance.now() - t0) / 1000;
  showSummary(s);
  showTables(s, my);
  if (s.tensors.some((t) => t.role === 'compressed table')) $('export').hidden = false;
  const compressible = s.tensors.some((t) => t.role === 'embedding table' || t.role === 'table (fp32)');
  if (!compressible) {
    if ($('export').hidden) showError('No embedding table here: shark compresses 2-D float tensors with at least 1,000 rows (or read by an ONNX Gather node).');
    return;
  }
  $('compress').hidden = false;
  $('budget').min = 1;
  $('budget-min').hidden = true;
  $('budget-note').hidden = true;
  $('plan-warn').hidden = true;
  // Predicting sizes reads every row once; on large tables wait to be asked.
  if (s.tables_fp32 <= 256 * 1024 * 1024) { await replan(); return; }
  const measure = el('button', { class: 'button secondary', type: 'button', text: `Measure ${s.tables_fp32_size} of tables to predict sizes` });
  measure.addEventListener('click', replan);
  $('plan-rows').replaceChildren(el('tr', {}, el('td', { colspan: '6' }, measure)));
  $('go').disabled = false;
}

// forgetFile clears what the page showed of the file before: its plan, its
// access counts (the worker drops them on open too) and its hints.
const firstHint = $('compress-hint').textContent, noCounts = $('counts-name').textContent;
function forgetFile() {
  delete $('plan-rows').dataset.measured;
  delete $('plan-rows').dataset.later;
  $('plan-rows').replaceChildren(el('tr', {}, el('td', { colspan: '6', class: 'muted', text: 'Measuring every row…' })));
  $('plan-table').classList.remove('stale');
  $('compress-hint').textContent = firstHint;
  $('counts-name').textContent = noCounts;
  $('counts-clear').hidden = true;
  $('counts-file').value = '';
  countsSet++;
  note('');
  $('plan-warn').hidden = true;
}

function showSummary(s) {
  $('file-title').textContent = s.name;
  $('file-facts').textContent = s.facts;
  const back = $('back');
  back.hidden = !source;
  if (source) back.textContent = `Back to ${source.name}`;
  const meta = $('file-meta');
  meta.replaceChildren();
  for (const [k, v] of Object.entries(s.meta || {}).sort()) meta.append(el('dt', { text: k }), el('dd', { text: v }));
  meta.hidden = meta.children.length === 0;
  const body = $('tensor-rows');
  body.replaceChildren();
  for (const t of s.tensors) {
    const role = t.tiers ? el('span', {}, el('span', { class: 'badge', text: t.role }), tierBar(t.tiers),
      t.rmse ? el('span', { class: 'tiercounts', text: `RMSE ${t.rmse.toPrecision(3)}, max abs ${t.max_abs_err == null ? 'not a number' : t.max_abs_err.toPrecision(3)}` }) : '')
      : t.table ? el('span', { class: 'badge', text: t.role }) : el('span', { class: 'muted', text: t.role });
    const name = el('td', { class: 'namecell' }, el('code', {}, nameEl(t.name)));
    // Why it is a table or not (a Gather node, an embedding module's name, its size), as inspect says.
    if (t.why) name.append(el('div', { class: 'tiercounts', text: t.why }));
    body.append(el('tr', { 'data-name': t.name }, name, el('td', { text: t.shape_text }),
      el('td', { class: 'opt', text: t.dtype }), el('td', { class: 'num', text: t.size }), el('td', {}, role)));
  }
  $('filter').value = '';
  filter();
  $('summary').hidden = false;
}

function showTables(s, my) {
  const tables = s.tensors.filter((t) => t.table);
  const cards = $('table-cards');
  cards.replaceChildren();
  for (const t of tables) {
    const card = el('div', { class: 'card', 'data-name': t.name }, el('h3', {}, nameEl(t.name)), el('p', { class: 'sub', text: `${t.shape_text} · ${t.size}` }));
    if (t.tiers) card.append(tierBar(t.tiers), legend(t.tiers));
    const chart = el('div', { class: 'muted', text: 'row norms…' });
    card.append(el('p', { class: 'sub', text: 'Row L2 norms (rows per bin)' }), chart);
    cards.append(card);
    shark.norms(t.name, 40).then((h) => {
      if (my !== gen) return;
      card.histogram = h;
      chart.replaceWith(card.chart = histogram(h, $('log-scale').checked));
    }).catch((e) => { chart.textContent = 'row norms unavailable: ' + e.message; });
  }
  $('tables').hidden = tables.length === 0;
}

// filter shows the tensors and tables whose names hold the filter's text.
function filter() {
  const q = $('filter').value.trim().toLowerCase();
  let shown = 0, total = 0;
  for (const e of document.querySelectorAll('#tensor-rows tr, #table-cards .card')) {
    const hit = !q || e.dataset.name.toLowerCase().includes(q);
    e.hidden = !hit;
    if (e.tagName === 'TR') { total++; if (hit) shown++; }
  }
  $('filter-count').hidden = !q;
  $('filter-count').textContent = `${shown} of ${total} tensors match "${q}"`;
}

// options are the page's compress.Settings; shark.created, when a test or
// a user sets it, is the creation time to record (Unix seconds), as
// SOURCE_DATE_EPOCH is for the CLI.
function options() {
  const list = chosenTiers(), preset = presetOf(list);
  const o = { budget: Number($('budget').value) / 100, no_int4: preset === 'paper' };
  if (preset === 'all') o.tiers = 'all';
  else if (preset === 'custom') o.tiers = list.join(',');
  if (blockTiersOn()) o.block = Number(blockSize());
  if (shark.created) o.created = shark.created;
  return o;
}

// stale marks what the settings changed: the prediction until it is made
// again, and a result made under other settings.
function stale() {
  $('plan-table').classList.add('stale');
  $('go').disabled = true;
  $('result').hidden = true;
}

// settingsKey names every setting a result depends on: a result is shown
// and saved only under the settings it was made with.
function settingsKey() { return JSON.stringify(options()) + ' counts ' + countsSet; }

// settingsChanged marks the prediction and result stale and stops a
// compression running under the settings before.
function settingsChanged() {
  stale();
  if (writing && writing.gen === gen && writing.key !== settingsKey()) shark.cancel();
}

// The tier choice: the presets are the sets of the CLI's --tiers most
// asked for (its default, all, the paper's), the boxes any set. The no-int4
// box is the paper's set, as the CLI's --no-int4 is --tiers fp32,fp16,int8.
const PRESETS = { default: TIERS.slice(0, DEFAULT_TIERS), all: TIERS, paper: TIERS.slice(0, 3) };
const tierBox = (k) => document.querySelector(`#tier-boxes input[value="${k}"]`);
const chosenTiers = () => TIERS.filter((k) => tierBox(k).checked);
const presetOf = (list) => Object.keys(PRESETS).find((p) => PRESETS[p].join() === list.join()) || 'custom';
const blockTiersOn = () => chosenTiers().some((k) => k.endsWith('-block'));
// blockSize is the rows per block typed, 0 (or nothing) the default's 64,
// as the CLI's --block 0 is.
const blockSize = () => { const b = $('block').value.trim(); return b === '' || Number(b) === 0 ? '64' : b; };
const tierWords = (list) => list.length > 1 ? list.slice(0, -1).join(', ') + ' or ' + list[list.length - 1] : list.join('');
// showTiers makes the preset, the no-int4 box and the block size agree
// with the boxes ticked.
function showTiers() {
  const preset = presetOf(chosenTiers());
  $('tiers').value = preset;
  $('no-int4').checked = preset === 'paper';
  $('block-label').hidden = !blockTiersOn();
}
function setTiers(list) { for (const k of TIERS) tierBox(k).checked = list.includes(k); showTiers(); }
function tiersChanged() { showTiers(); settingsChanged(); replan(); }
// settingsProblem says what in the tier choice no plan can be made of.
function settingsProblem() {
  if (!chosenTiers().length) return 'Tick at least one tier: every row is stored in one.';
  const b = Number(blockSize());
  if (blockTiersOn() && !(Number.isInteger(b) && b >= 1 && b <= 65536)) return 'Rows per block: a whole number from 1 to 65,536, or 0 for 64.';
  return '';
}
// covered says whether the worker measured the rows for the tiers chosen
// (those after int4, in their blocks), as it keeps its measurement
// (compress.Plan.Covers): else planning measures every row again.
function covered() {
  const d = $('plan-rows').dataset, later = (d.later || '').split(',');
  return !!d.measured && chosenTiers().slice(DEFAULT_TIERS).every((k) => later.includes(k)) && (!blockTiersOn() || d.block === blockSize());
}
function measuredNow() {
  const d = $('plan-rows').dataset;
  d.measured = '1';
  d.later = chosenTiers().filter((k) => TIERS.indexOf(k) >= DEFAULT_TIERS).join(',');
  d.block = blockSize();
}

let planning = 0;
async function replan() {
  const my = gen, mine = ++planning, asked = $('budget').value;
  $('budget-out').value = asked + '%';
  stale();
  if (settingsProblem()) { note(settingsProblem(), true); return; }
  const measuring = !covered();
  const label = measuring ? 'Measuring every row in every tier…' : 'Assigning tiers…';
  let p;
  const t0 = performance.now();
  try { p = await job('plan', label, (progress) => shark.plan(options(), progress)); } catch (e) {
    if (my !== gen || mine !== planning) return;
    const cut = e.message === 'cancelled';
    note(cut ? 'Measuring cancelled: change the budget, or press Compress, to measure again.' : e.message, !cut);
    if (cut) $('go').disabled = false; // as the note says: Compress measures, then writes
    return;
  }
  if (my !== gen || mine !== planning) return;
  if (measuring) { timing.measure = (performance.now() - t0) / 1000; measuredNow(); }
  $('plan-rows').dataset.workers = p.workers;
  showMin(p);
  if ($('budget').value !== asked) { await movedUp(p, asked, my, mine); return; }
  $('plan-warn').hidden = !(p.warnings && p.warnings.length);
  $('plan-warn').textContent = (p.warnings || []).join('\n');
  $('compress-hint').textContent = `Each row is stored at ${tierWords(chosenTiers())} by its priority (here ${p.priority === 'counts' ? 'its access counts' : 'its L2 norm'}), within the budget; dense tensors pass through bit for bit.${p.workers > 1 ? ` Measured on ${p.workers} Web Workers, one a core.` : ''}`;
  if (!p.ok) {
    $('plan-rows').replaceChildren(el('tr', {}, el('td', { colspan: '6', class: 'muted', text: 'No prediction: the budget cannot be met.' })));
    note(p.error, true);
    return;
  }
  note('');
  showPlan(p);
  $('plan-table').classList.remove('stale');
  $('go').disabled = false;
}

// note says, under the slider, why a budget cannot be met (or clears it).
function note(msg, bad) {
  const n = $('budget-note');
  n.textContent = msg || '';
  n.hidden = !msg;
  n.className = bad ? 'note' : 'note info';
}

// showMin puts the smallest feasible budget on the slider: its lower end,
// marked under the thumb's lowest place (the slider's left end).
function showMin(p) {
  if (!(p.min_budget > 0)) return;
  const pct = smallestStep(p), b = $('budget');
  b.min = pct;
  $('budget-min').replaceChildren(el('span', { class: 'tri', 'aria-hidden': 'true', text: '▲' }), `smallest possible: ${pct}%`);
  $('budget-min').hidden = false;
}

// smallestStep is the smallest budget the slider's steps of 0.1% reach
// that the tables can take: the share whose bytes, counted as the
// application layer counts a share (its fp32 bytes times the share, cut
// to whole bytes), hold the smallest budget's; the same bytes as the
// CLI's --budget of that share.
function smallestStep(p) {
  const bytes = (pct) => Math.trunc((pct / 100) * p.fp32_bytes);
  let pct = Math.max(0.1, Math.ceil(p.min_budget * 1000) / 10);
  if (pct > 0.1 && bytes(Math.round(pct * 10 - 1) / 10) >= p.min_budget_bytes) pct = Math.round(pct * 10 - 1) / 10;
  while (bytes(pct) < p.min_budget_bytes) pct = Math.round(pct * 10 + 1) / 10;
  return pct;
}

// movedUp plans again where the slider moved itself: the budget asked fell
// below its new lower end, and the thumb, the label and the plan all say
// the smallest budget, with the note saying why.
async function movedUp(p, asked, my, mine) {
  const now = $('budget').value;
  const preset = presetOf(chosenTiers());
  const why = `${asked}% is below the smallest possible budget${preset === 'paper' ? ' without int4' : preset === 'default' ? '' : ` with ${tierWords(chosenTiers())}`} (${(p.min_budget * 100).toFixed(1)}%): the budget is now ${now}%.`;
  await replan();
  if (my === gen && planning === mine + 1 && !$('go').disabled) note(why);
}

function showPlan(p) {
  const body = $('plan-rows');
  body.replaceChildren();
  const total = p.rows[p.rows.length - 1];
  for (const t of p.rows.slice(0, -1)) {
    body.append(el('tr', { 'data-name': t.name }, el('td', { class: 'namecell' }, el('code', {}, nameEl(t.name))), el('td', { class: 'num opt', text: t.fp32 }),
      el('td', { class: 'num', text: t.stored }), el('td', { class: 'num opt', text: t.share }),
      el('td', {}, tierBar(t.tiers)), el('td', { class: 'num', text: t.rmse })));
  }
  body.append(el('tr', {}, el('td', {}, el('strong', { text: total.name })), el('td', { class: 'num opt', text: total.fp32 }),
    el('td', { class: 'num', text: total.stored }), el('td', { class: 'num opt', text: total.share }), el('td', {}, legend(...p.rows.map((r) => r.tiers))), el('td')));
}

async function compress() {
  const my = gen, file = shark.file, key = settingsKey(), mine = writing = { gen: my, key };
  const measured = covered();
  if (settingsProblem()) { note(settingsProblem(), true); return; }
  showError('');
  $('go').disabled = true;
  $('result').hidden = true;
  const t0 = performance.now();
  try {
    const { result, blob } = await job('compress', 'Compressing…', (progress) => shark.compress(options(), progress));
    if (my !== gen || key !== settingsKey()) return; // another file was opened, or the settings changed, meanwhile
    const name = file.name.replace(/\.(npz|npy|safetensors|pt|pth|bin|onnx|shark)$/i, '') + '.shark';
    resultFor = { gen: my, blob, name, from: file };
    const a = $('download');
    if (a.href) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.textContent = `Download ${name} (${result.output_size})`;
    $('result-text').textContent = `Done: ${result.input_size} → ${result.output_size}, ${spent((performance.now() - t0) / 1000, measured ? 'writing' : 'measuring and writing')}${result.write_workers > 1 ? `, written on ${result.write_workers} Web Workers` : ''}.`;
    $('result').hidden = false;
    if (!measured) measuredNow();
    a.click();
  } catch (e) {
    if (my === gen && key === settingsKey()) note(e.message === 'cancelled' ? 'Compression cancelled.' : e.message, e.message !== 'cancelled');
  } finally {
    if (writing === mine) writing = null;
    if (my === gen && key === settingsKey()) $('go').disabled = false; // else the new settings' plan enables it
  }
}

// spent says the time of every phase since the drop: opening, measuring
// (on opening, or when the counts changed) and writing (with any measuring
// it had to do itself); idle time between them is not counted.
function spent(writing, what) {
  const parts = [['opening', timing.open], ['measuring', timing.measure], [what, writing]].filter(([, t]) => t !== undefined);
  const total = parts.reduce((a, [, t]) => a + t, 0);
  return `${total.toFixed(2)} s of work since the drop (${parts.map(([k, t]) => `${k} ${t.toFixed(2)} s`).join(' + ')})`;
}

async function exportAs(to) {
  const my = gen, file = shark.file, layout = $('layout').value;
  showError('');
  const a = $('export-link');
  a.hidden = true; // the export before is not offered while another runs
  $('export-note').hidden = true;
  const buttons = document.querySelectorAll('.export');
  for (const b of buttons) b.disabled = true;
  try {
    const { size, blob } = await job('export', `Exporting to ${to}…`, (progress) => shark.exportAs(to, layout, progress));
    if (my !== gen) return;
    if (a.href) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(blob);
    // An .onnx has no layout: its name carries none.
    a.download = `${file.name.replace(/\.shark$/i, '')}${to === 'onnx' ? '' : '.' + layout}.${to}`;
    a.textContent = `Download ${a.download} (${size})`;
    a.hidden = false;
    if (to === 'onnx') { $('export-note').textContent = lookupsAlone(file.name, a.download); $('export-note').hidden = false; }
  } catch (e) {
    if (my !== gen) return;
    if (e.message !== 'cancelled') showError(e.message);
    else { $('export-note').textContent = 'Export cancelled.'; $('export-note').hidden = false; }
  } finally { for (const b of buttons) b.disabled = false; }
}

// lookupsAlone says what the CLI's export --to onnx warns of when the
// graph is not beside the .shark file, in its words: the page reads no
// other file, so its .onnx holds the quantized lookups alone.
function lookupsAlone(name, out) {
  const s = shark.summary, from = (s && s.meta && s.meta.input) || '';
  const alone = 'the quantized lookups alone (an input "<table>.ids" and an output "<table>.rows" a table)';
  if (!/\.onnx$/i.test(from)) return `Wrote ${alone}.`;
  return `"${name}" was made from "${from}", whose graph this page cannot read: wrote ${alone}; to export the whole model, pass the .onnx: shark export "${name}" --to onnx --graph MODEL.onnx -o "${out}"`;
}

async function setCounts(file) {
  const my = gen;
  countsSet++;
  settingsChanged();
  try {
    const c = await shark.counts(file);
    if (my !== gen) return;
    $('counts-name').textContent = c.counts ? `${c.counts} (${c.facts}): rows ranked by their access counts` : 'none: rows are ranked by their L2 norm';
    $('counts-clear').hidden = !c.counts;
    delete $('plan-rows').dataset.measured;
  } catch (e) { if (my === gen) note(e.message, true); return; }
  await replan();
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
$('budget').addEventListener('input', () => { $('budget-out').value = $('budget').value + '%'; settingsChanged(); });
$('budget').addEventListener('change', replan);
$('no-int4').addEventListener('change', () => { setTiers($('no-int4').checked ? PRESETS.paper : PRESETS.default); settingsChanged(); replan(); });
for (const k of TIERS) {
  const box = el('input', { type: 'checkbox', value: k });
  box.addEventListener('change', tiersChanged);
  $('tier-boxes').append(el('label', { class: 'check' }, box, el('i', { style: { background: `var(--${k})` } }), k));
}
setTiers(PRESETS.default);
$('tiers').addEventListener('change', () => {
  if ($('tiers').value === 'custom') { tierBox(TIERS[DEFAULT_TIERS]).focus(); return; } // the boxes say which
  setTiers(PRESETS[$('tiers').value]);
  tiersChanged();
});
// The block size plans as soon as the typing pauses: a user need not
// leave the box (or press Enter) before Compress can be pressed.
let blockTyped = 0;
$('block').addEventListener('input', () => { settingsChanged(); clearTimeout(blockTyped); blockTyped = setTimeout(replan, 600); });
$('block').addEventListener('change', () => { clearTimeout(blockTyped); replan(); });
$('go').addEventListener('click', compress);
for (const id of ['cancel', 'plan-cancel', 'go-cancel', 'export-cancel']) $(id).addEventListener('click', () => shark.cancel());
$('open-result').addEventListener('click', () => {
  if (resultFor && resultFor.gen === gen) openFile(new File([resultFor.blob], resultFor.name), resultFor.from);
});
$('back').addEventListener('click', () => { if (source) openFile(source); });
$('filter').addEventListener('input', filter);
$('log-scale').addEventListener('change', () => {
  for (const card of document.querySelectorAll('#table-cards .card')) {
    if (card.histogram) { const c = histogram(card.histogram, $('log-scale').checked); card.chart.replaceWith(c); card.chart = c; }
  }
});
$('counts-file').addEventListener('change', (e) => { if (e.target.files[0]) setCounts(e.target.files[0]); });
$('counts-clear').addEventListener('click', () => { $('counts-file').value = ''; setCounts(null); });
for (const b of document.querySelectorAll('.export')) b.addEventListener('click', () => exportAs(b.dataset.to));
