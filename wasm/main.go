//go:build js && wasm

// Command wasm is shark's core built for the browser. It runs inside a Web
// Worker (www/worker.js) and exposes, as the global sharkAPI, functions that
// return promises: open, plan, compress, norms, export. The dropped File is
// read through Blob.slice in chunks and never as a whole; the output is
// handed to JavaScript in chunks as it is written.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"syscall/js"
	"time"

	"shark/compress"
	"shark/core"
	_ "shark/formats/all"
)

// state is the worker's one open file, its access counts if given, its
// plan (measured once, assigned again for each budget), and the cancel of
// the job running.
var state struct {
	in     *compress.Input
	counts *compress.Input
	plan   *compress.Plan
	cancel context.CancelFunc
	pool   pool
	// helped counts the row ranges the pool measured for the plan: the
	// plan says on how many workers it was measured.
	helped int
	// encoded counts the row ranges the pool encoded for the file being
	// written: the result says on how many workers it was written.
	encoded int
	// fitted is the settings (the page's JSON) the plan is assigned under
	// now, and the answer then given; empty when not known.
	fitted struct {
		settings string
		result   any
	}
	// pace is a test hook (sharkAPI.pace): each progress report of a job
	// waits this long, so that a browser test can act while a small
	// table's job runs, as a user does during a large one's.
	pace time.Duration
}

func main() {
	api := js.Global().Get("Object").New()
	api.Set("open", promised(open))
	api.Set("counts", promised(setCounts))
	api.Set("plan", promised(plan))
	api.Set("compress", promised(compressFile))
	api.Set("norms", promised(norms))
	api.Set("export", promised(export))
	api.Set("pool", js.FuncOf(setPool))
	api.Set("measureRange", promisedValue(measureRange))
	api.Set("encodeRange", promisedValue(encodeRange))
	useSIMD()
	api.Set("kernels", kernelSet)
	api.Set("phases", js.FuncOf(phasesText))        // a test hook: see phases.go
	api.Set("checkKernels", promised(checkKernels)) // test hooks: see simd.go
	api.Set("checkQuantize", promised(checkQuantize))
	api.Set("pace", js.FuncOf(func(_ js.Value, a []js.Value) any {
		state.pace = time.Duration(arg(a, 0).Float() * float64(time.Millisecond))
		return nil
	}))
	api.Set("cancel", js.FuncOf(func(js.Value, []js.Value) any {
		if state.cancel != nil {
			state.cancel()
		}
		return nil
	}))
	js.Global().Set("sharkAPI", api)
	select {}
}

// errCancelled is what a cancelled job rejects with; the page knows it.
var errCancelled = errors.New("cancelled")

// job starts a cancellable job: its context, cancelled by sharkAPI.cancel.
func job() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	state.cancel = cancel
	return ctx, func() { cancel(); state.cancel = nil }
}

// yield lets the worker's event loop run (and a cancel arrive): a
// goroutine computing never returns to it otherwise.
func yield() {
	done := make(chan struct{})
	var f js.Func
	f = js.FuncOf(func(js.Value, []js.Value) any { close(done); f.Release(); return nil })
	js.Global().Call("setTimeout", f, 0)
	<-done
}

// report is a job's progress callback: it tells onProgress at most ten
// times a second (every time when paced), and yields to the worker's event
// loop as often, so that a cancel can arrive.
func report(onProgress js.Value) func(stage string, done, total int64) {
	last := time.Now()
	return func(stage string, done, total int64) {
		if state.pace == 0 && time.Since(last) <= 100*time.Millisecond && done != total {
			return
		}
		last = time.Now()
		if onProgress.Type() == js.TypeFunction {
			onProgress.Invoke(stage, float64(done), float64(total))
		}
		time.Sleep(state.pace)
		yield()
	}
}

// cancelled maps a job's context error to errCancelled.
func cancelled(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errCancelled
	}
	return err
}

// promised wraps fn as a JavaScript function returning a Promise that
// resolves to fn's result as JSON text, or rejects with its error message.
func promised(fn func(args []js.Value) (any, error)) js.Func {
	return promisedValue(func(args []js.Value) (any, error) {
		v, err := fn(args)
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(v)
		return string(b), nil
	})
}

// promisedValue is promised for a result that JavaScript takes as it is (a
// string, or a value such as bytes, which JSON would inflate).
func promisedValue(fn func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		return js.Global().Get("Promise").New(js.FuncOf(func(_ js.Value, pr []js.Value) any {
			resolve, reject := pr[0], pr[1]
			go func() {
				defer func() {
					if r := recover(); r != nil {
						reject.Invoke(js.Global().Get("Error").New(fmt.Sprint("internal error: ", r)))
					}
				}()
				v, err := fn(args)
				if err != nil {
					reject.Invoke(js.Global().Get("Error").New(err.Error()))
					return
				}
				resolve.Invoke(v)
			}()
			return nil
		}))
	})
}

// open(file) reads a model file's directory: the summary every face shows
// ("shark inspect --json").
func open(args []js.Value) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("open needs a File")
	}
	blob := args[0]
	markOpen(blob.Get("name").String())
	defer mark("opened")
	rd := newBlobReader(blob)
	in, err := compress.OpenReaderAt(rd, rd.size, blob.Get("name").String())
	if err != nil {
		return nil, err
	}
	dropPlan()
	dropCounts() // they were the file before's: a model's counts never rank another's rows
	if state.in != nil {
		state.in.Close()
	}
	state.in = in
	return compress.Summarize(in), nil
}

func dropPlan() {
	if state.plan != nil {
		state.plan.Close()
	}
	state.plan = nil
	state.fitted.settings = ""
}

// counts(file or null) sets the access counts that rank rows (as the
// CLI's --counts): the next plan measures again with them.
func setCounts(args []js.Value) (any, error) {
	dropPlan()
	dropCounts()
	blob := arg(args, 0)
	if blob.Type() != js.TypeObject {
		return map[string]any{"counts": nil}, nil
	}
	rd := newBlobReader(blob)
	c, err := compress.OpenReaderAt(rd, rd.size, blob.Get("name").String())
	if err != nil {
		return nil, fmt.Errorf("the counts file: %w", err)
	}
	state.counts = c
	return map[string]any{"counts": c.Name, "facts": compress.Summarize(c).Facts}, nil
}

func dropCounts() {
	if state.counts != nil {
		state.counts.Close()
	}
	state.counts = nil
}

// settings reads the page's settings (JSON over the defaults) and wires
// progress to a JavaScript callback, at most ten times a second, yielding
// to the worker's event loop as often, so that a cancel can arrive.
func settings(ctx context.Context, raw js.Value, progress js.Value) (compress.Settings, compress.Env, error) {
	s := compress.DefaultSettings()
	if raw.Type() == js.TypeString {
		if err := json.Unmarshal([]byte(raw.String()), &s); err != nil {
			return s, compress.Env{}, fmt.Errorf("settings: %w", err)
		}
	}
	env := compress.Env{Context: ctx} // no temporary files in a browser tab: SpillRows 0
	if state.counts != nil {
		env.Counts = state.counts.File
	}
	if raw.Type() == js.TypeString {
		env.Helpers = state.pool.helpers(raw.String())
		env.Encoders = state.pool.encoders()
		env.PartBuffer = newJSBuffer
	}
	env.Progress = report(progress)
	return s, env, nil
}

// planResult is a plan as the page shows it, or why its budget cannot be
// met: ok false, the error, and the smallest budget that can.
func planResult(p *compress.Plan, fit compress.Fit) any {
	out := map[string]any{"ok": fit.Refused == nil, "fp32_bytes": p.FP32Bytes(), "warnings": p.Warnings,
		"priority": p.Tables[0].PrioritySource, "workers": 1 + min(state.helped, state.pool.size)}
	if fit.MinKnown {
		out["min_budget_bytes"], out["min_budget"] = fit.Min, fit.MinShare
	}
	if fit.Refused != nil {
		out["error"] = fit.Refused.Error()
		return out
	}
	r := p.Result()
	out["budget_bytes"], out["tables"], out["rows"] = p.Budget, r.Tables, r.Rows()
	return out
}

// plan(settings, onProgress) measures every row once (the first time; a
// cancel drops what was measured) and assigns tiers: the predicted size
// and error per table, or why the budget cannot be met.
func plan(args []js.Value) (any, error) {
	ctx, done := job()
	defer done()
	return planWith(ctx, args)
}

func planWith(ctx context.Context, args []js.Value) (any, error) {
	mark("plan")
	if state.in == nil {
		return nil, fmt.Errorf("no file is open")
	}
	s, env, err := settings(ctx, arg(args, 0), arg(args, 1))
	if err != nil {
		return nil, err
	}
	if state.plan != nil && !state.plan.Covers(s) {
		dropPlan() // the tiers chosen now were not measured (or in other blocks)
	}
	if state.plan == nil {
		state.helped = 0
		mark("measuring; %s", fileReads.take())
		p, err := compress.Measure(state.in, s, env)
		mark("measured; %s", fileReads.take())
		if err != nil {
			return nil, cancelled(ctx, err)
		}
		state.plan = p
	}
	state.plan.SetProgress(ctx, env.Progress)
	raw := arg(args, 0)
	if raw.Type() == js.TypeString && raw.String() == state.fitted.settings {
		// Assigned under these settings already (Compress after the plan
		// shown): assigning again would take seconds for the same tiers.
		return state.fitted.result, nil
	}
	state.fitted.settings = ""
	mark("assigning tiers")
	fit, err := state.plan.Fit(s)
	mark("assigned")
	if err != nil {
		return nil, err
	}
	res := planResult(state.plan, fit)
	if fit.Refused == nil && raw.Type() == js.TypeString {
		state.fitted.settings, state.fitted.result = raw.String(), res
	}
	return res, nil
}

func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

// chunkWriter hands the output to JavaScript in pieces of up to 4 MiB, so
// that it is never held whole in wasm memory.
type chunkWriter struct {
	buf     []byte
	onChunk js.Value
	n       int64
	// ctx and progress, when set, stop the writing at a cancel and report
	// the bytes written of about total: the export's only progress.
	ctx      context.Context
	progress func(stage string, done, total int64)
	total    int64
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	if w.ctx != nil {
		if err := w.ctx.Err(); err != nil {
			return 0, err
		}
		w.progress("writing", w.n, max(w.total, w.n+1))
	}
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == cap(w.buf) {
			w.flush()
		}
	}
	w.n += int64(n)
	return n, nil
}

func (w *chunkWriter) flush() {
	if len(w.buf) == 0 {
		return
	}
	u8 := js.Global().Get("Uint8Array").New(len(w.buf))
	js.CopyBytesToJS(u8, w.buf)
	w.onChunk.Invoke(u8)
	w.buf = w.buf[:0]
}

// compressFile(settings, onProgress, onChunk) writes the .shark file. A
// cancel stops the writing and keeps the plan.
func compressFile(args []js.Value) (any, error) {
	ctx, done := job()
	defer done()
	t0 := time.Now()
	res, err := planWith(ctx, args)
	if err != nil {
		return nil, err
	}
	if ok, _ := res.(map[string]any)["ok"].(bool); !ok {
		return nil, errors.New(res.(map[string]any)["error"].(string))
	}
	onChunk := arg(args, 2)
	if onChunk.Type() != js.TypeFunction {
		return nil, fmt.Errorf("compress needs an onChunk function")
	}
	w := &chunkWriter{buf: make([]byte, 0, 4<<20), onChunk: onChunk}
	state.encoded = 0
	mark("writing")
	if err := state.plan.Write(w); err != nil {
		return nil, cancelled(ctx, err)
	}
	w.flush()
	mark("written; %s", fileReads.take())
	r := state.plan.Result()
	r.OutputBytes = w.n
	return map[string]any{"result": r, "seconds": time.Since(t0).Seconds(), "write_workers": 1 + min(state.encoded, state.pool.size),
		"input_size": compress.Size(r.InputBytes), "output_size": compress.Size(r.OutputBytes)}, nil
}

// norms(name, bins) is a histogram of the table's row L2 norms.
func norms(args []js.Value) (any, error) {
	if state.in == nil {
		return nil, fmt.Errorf("no file is open")
	}
	mark("norms of %s", arg(args, 0).String())
	defer mark("norms done")
	bins := 30
	if b := arg(args, 1); b.Type() == js.TypeNumber {
		bins = b.Int()
	}
	return compress.Norms(state.in.File, arg(args, 0).String(), bins)
}

// export(to, layout, onChunk, onProgress) writes the open .shark file as
// npz, safetensors or pt. A cancel stops the writing.
func export(args []js.Value) (any, error) {
	ctx, done := job()
	defer done()
	if state.in == nil {
		return nil, fmt.Errorf("no file is open")
	}
	rd, ok := state.in.Shark()
	if !ok {
		return nil, fmt.Errorf("export needs an open .shark file")
	}
	layout := compress.Layout(arg(args, 1).String())
	w := &chunkWriter{buf: make([]byte, 0, 4<<20), onChunk: arg(args, 2),
		ctx: ctx, progress: report(arg(args, 3)), total: exportBytes(state.in, layout)}
	if err := compress.Export(rd, arg(args, 0).String(), layout, w); err != nil {
		return nil, cancelled(ctx, err)
	}
	w.flush()
	return map[string]any{"bytes": w.n, "size": compress.Size(w.n)}, nil
}

// exportBytes is about the size of an export, for its progress: the
// tensors' bytes read back (tables as float32) when dequantized, each
// tier's ids and encoded rows in the tiers layouts.
func exportBytes(in *compress.Input, layout compress.Layout) int64 {
	var n int64
	for _, t := range in.File.Tensors {
		if t.Tiers == nil || layout == compress.Dequantized || len(t.Shape) != 2 {
			n += t.Bytes
			continue
		}
		d := int(t.Shape[1])
		// ids (8 bytes a row) and each tier's rows as stored (int8's
		// scale and bias take 8 bytes in the torch layout, 4 more), for
		// every tier there is: a table of the tiers after int4 too.
		for k, rows := range t.Tiers {
			per := 8 + int64(core.Tier(k).RowBytes(d))
			if core.Tier(k) == core.INT8 {
				per += 4
			}
			n += rows * per
		}
	}
	return n
}

// blobReader is io.ReaderAt over a JavaScript Blob, read with
// FileReaderSync (workers only) one slice at a time, with a small cache of
// 1 MiB windows for the many small reads of headers and directories.
type blobReader struct {
	blob  js.Value
	frs   js.Value
	size  int64
	cache [4]struct {
		off  int64
		data []byte
	}
	next int
	// ahead serves reads in order (readahead.go).
	ahead ahead
}

const window = 1 << 20

// direct is the smallest read made as it is asked, not through the
// windows: reads of rows (a chunk to measure, a run of a norm
// histogram's sample) need only their own bytes, and a window around
// each of a sample's runs 1 MiB apart would read the whole file.
const direct = 16 << 10

func newBlobReader(blob js.Value) *blobReader {
	b := &blobReader{blob: blob, frs: js.Global().Get("FileReaderSync").New(), size: int64(blob.Get("size").Float())}
	for i := range b.cache {
		b.cache[i].off = -1
	}
	b.ahead.end = -1
	return b
}

// read fills p from off (readJS says how a read fails).
func (b *blobReader) read(p []byte, off int64) error {
	u8, err := b.readJS(off, len(p))
	if err != nil {
		return err
	}
	js.CopyBytesToGo(p, u8)
	return nil
}

func (b *blobReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset")
	}
	if off >= b.size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > b.size-off {
		p = p[:b.size-off]
	}
	if len(p) >= direct {
		if err := b.large(p, off); err != nil {
			return 0, err
		}
	} else {
		for done := 0; done < len(p); {
			o := off + int64(done)
			w := o &^ (window - 1)
			var data []byte
			for i := range b.cache {
				if b.cache[i].off == w {
					data = b.cache[i].data
				}
			}
			if data == nil {
				n := min(int64(window), b.size-w)
				c := &b.cache[b.next%len(b.cache)]
				b.next++
				if cap(c.data) < int(n) {
					c.data = make([]byte, window)
				}
				c.data = c.data[:n]
				if err := b.read(c.data, w); err != nil {
					c.off = -1
					return done, err
				}
				c.off, data = w, c.data
			}
			done += copy(p[done:], data[o-w:])
		}
	}
	if len(p) < want {
		return len(p), io.EOF
	}
	return len(p), nil
}
