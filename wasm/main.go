//go:build js && wasm

// Command wasm is shark's core built for the browser. It runs inside a Web
// Worker (www/worker.js) and exposes, as the global sharkAPI, functions that
// return promises: open, plan, compress, norms, export. The dropped File is
// read through Blob.slice in chunks and never as a whole; the output is
// handed to JavaScript in chunks as it is written.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"syscall/js"
	"time"

	"shark/core"
	"shark/formats"
	_ "shark/formats/all"
	"shark/compress"
	"shark/formats/sharkfile"
)

// state is the worker's one open file and its latest plan.
var state struct {
	blob js.Value
	rd   *blobReader
	file *formats.File
	plan *compress.Plan
	name string
}

func main() {
	api := js.Global().Get("Object").New()
	api.Set("open", promised(open))
	api.Set("plan", promised(plan))
	api.Set("compress", promised(compress))
	api.Set("norms", promised(norms))
	api.Set("export", promised(export))
	js.Global().Set("sharkAPI", api)
	select {}
}

// promised wraps fn as a JavaScript function returning a Promise that
// resolves to fn's result as JSON text, or rejects with its error message.
func promised(fn func(args []js.Value) (any, error)) js.Func {
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
				b, _ := json.Marshal(v)
				resolve.Invoke(string(b))
			}()
			return nil
		}))
	})
}

// open(file) reads a model file's directory: the same summary as
// "shark inspect --json".
func open(args []js.Value) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("open needs a File")
	}
	blob := args[0]
	rd := newBlobReader(blob)
	f, err := formats.OpenReaderAt(rd, rd.size)
	if err != nil {
		return nil, err
	}
	state.blob, state.rd, state.file, state.plan = blob, rd, f, nil
	state.name = blob.Get("name").String()
	sum, err := compress.Summarize(f, rd)
	if err != nil {
		return nil, err
	}
	return map[string]any{"name": state.name, "format": sum.Format, "bytes": sum.Bytes, "meta": sum.Meta, "tensors": sum.Tensors}, nil
}

type planOpts struct {
	Budget  float64 `json:"budget"` // share of fp32 bytes
	WPos    float64 `json:"w_pos"`
	WNeg    float64 `json:"w_neg"`
	Gamma   float64 `json:"gamma"`
	NoInt4  bool    `json:"no_int4"`
	MinRows int64   `json:"min_rows"`
}

func options(raw js.Value, progress js.Value) (compress.Options, error) {
	var po planOpts
	if raw.Type() == js.TypeString {
		if err := json.Unmarshal([]byte(raw.String()), &po); err != nil {
			return compress.Options{}, fmt.Errorf("options: %w", err)
		}
	}
	opt := compress.DefaultOptions()
	opt.SpillRows = 0 // no temporary files in a browser tab
	if po.Budget > 0 {
		opt.BudgetFraction = po.Budget
	}
	if po.WPos > 0 || po.WNeg > 0 {
		opt.Priority.WPos, opt.Priority.WNeg = po.WPos, po.WNeg
	}
	if po.Gamma > 0 {
		opt.Priority.Gamma = po.Gamma
	}
	opt.Allowed[core.INT4] = !po.NoInt4
	if po.MinRows > 0 {
		opt.MinRows = po.MinRows
	}
	if progress.Type() == js.TypeFunction {
		last := time.Now()
		opt.Progress = func(stage string, done, total int64) {
			if time.Since(last) > 100*time.Millisecond || done == total {
				last = time.Now()
				progress.Invoke(stage, float64(done), float64(total))
			}
		}
	}
	return opt, nil
}

func planResult(p *compress.Plan) any {
	return map[string]any{"budget_bytes": p.Budget, "fp32_bytes": p.FP32Bytes(), "tables": p.Result().Tables, "priority": p.Tables[0].PrioritySource}
}

// plan(opts, onProgress) measures every row once (the first time) and
// assigns tiers for the budget: the predicted size and error per table.
func plan(args []js.Value) (any, error) {
	if state.file == nil {
		return nil, fmt.Errorf("no file is open")
	}
	if state.file.Format == "shark" {
		return nil, fmt.Errorf("%s is already compressed; export it to re-compress", state.name)
	}
	opt, err := options(arg(args, 0), arg(args, 1))
	if err != nil {
		return nil, err
	}
	if state.plan != nil {
		if err := state.plan.Reassign(opt); err != nil {
			return nil, err
		}
		return planResult(state.plan), nil
	}
	p, err := compress.NewPlan(state.file, opt)
	if err != nil {
		return nil, err
	}
	state.plan = p
	return planResult(p), nil
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
}

func (w *chunkWriter) Write(p []byte) (int, error) {
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

// compress(opts, onProgress, onChunk) writes the .shark file for opts.
func compress(args []js.Value) (any, error) {
	if _, err := plan(args); err != nil {
		return nil, err
	}
	onChunk := arg(args, 2)
	if onChunk.Type() != js.TypeFunction {
		return nil, fmt.Errorf("compress needs an onChunk function")
	}
	p := state.plan
	p.Opt.Provenance = map[string]string{"tool": "shark (browser)", "input": state.name, "created": time.Now().UTC().Format(time.RFC3339)}
	t0 := time.Now()
	w := &chunkWriter{buf: make([]byte, 0, 4<<20), onChunk: onChunk}
	if err := p.Write(w); err != nil {
		return nil, err
	}
	w.flush()
	res := p.Result()
	res.OutputBytes = w.n
	return map[string]any{"result": res, "seconds": time.Since(t0).Seconds()}, nil
}

// norms(name, bins) is a histogram of the table's row L2 norms, from at most
// 65,536 rows spread evenly over the table.
func norms(args []js.Value) (any, error) {
	if state.file == nil {
		return nil, fmt.Errorf("no file is open")
	}
	t, err := state.file.Tensor(arg(args, 0).String())
	if err != nil {
		return nil, err
	}
	bins := 30
	if b := arg(args, 1); b.Type() == js.TypeNumber {
		bins = b.Int()
	}
	var src core.RowSource
	if t.Tiers != nil {
		sr, err := sharkfile.NewReader(state.rd, state.rd.size)
		if err != nil {
			return nil, err
		}
		if src, err = sr.Table(t.Name); err != nil {
			return nil, err
		}
	} else if rows, ok := formats.TensorRows(t); ok {
		src = rows
	} else {
		vals, err := t.Float32s()
		if err != nil {
			return nil, err
		}
		src = &core.Table{R: int(t.Shape[0]), D: int(t.Shape[1]), Data: vals}
	}
	return compress.NormHistogram(src, 65536, bins)
}

// export(to, layout, onChunk) writes the open .shark file as npz or safetensors.
func export(args []js.Value) (any, error) {
	if state.file == nil || state.file.Format != "shark" {
		return nil, fmt.Errorf("export needs an open .shark file")
	}
	sr, err := sharkfile.NewReader(state.rd, state.rd.size)
	if err != nil {
		return nil, err
	}
	w := &chunkWriter{buf: make([]byte, 0, 4<<20), onChunk: arg(args, 2)}
	if err := compress.Export(sr, arg(args, 0).String(), compress.Layout(arg(args, 1).String()), w); err != nil {
		return nil, err
	}
	w.flush()
	return map[string]any{"bytes": w.n}, nil
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
}

const window = 1 << 20

func newBlobReader(blob js.Value) *blobReader {
	b := &blobReader{blob: blob, frs: js.Global().Get("FileReaderSync").New(), size: int64(blob.Get("size").Float())}
	for i := range b.cache {
		b.cache[i].off = -1
	}
	return b
}

func (b *blobReader) read(p []byte, off int64) {
	ab := b.frs.Call("readAsArrayBuffer", b.blob.Call("slice", float64(off), float64(off+int64(len(p)))))
	js.CopyBytesToGo(p, js.Global().Get("Uint8Array").New(ab))
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
	if len(p) >= window/2 {
		b.read(p, off)
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
				b.read(c.data, w)
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
