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

	"shark/compress"
	_ "shark/formats/all"
)

// state is the worker's one open file and its latest plan.
var state struct {
	in   *compress.Input
	plan *compress.Plan
}

func main() {
	api := js.Global().Get("Object").New()
	api.Set("open", promised(open))
	api.Set("plan", promised(plan))
	api.Set("compress", promised(compressFile))
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

// open(file) reads a model file's directory: the summary every face shows
// ("shark inspect --json").
func open(args []js.Value) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("open needs a File")
	}
	blob := args[0]
	rd := newBlobReader(blob)
	in, err := compress.OpenReaderAt(rd, rd.size, blob.Get("name").String())
	if err != nil {
		return nil, err
	}
	if state.plan != nil {
		state.plan.Close()
	}
	state.in, state.plan = in, nil
	return compress.Summarize(in), nil
}

// settings reads the page's settings (JSON over the defaults) and wires
// progress to a JavaScript callback, at most ten times a second.
func settings(raw js.Value, progress js.Value) (compress.Settings, compress.Env, error) {
	s := compress.DefaultSettings()
	if raw.Type() == js.TypeString {
		if err := json.Unmarshal([]byte(raw.String()), &s); err != nil {
			return s, compress.Env{}, fmt.Errorf("settings: %w", err)
		}
	}
	env := compress.Env{} // no temporary files in a browser tab: SpillRows 0
	if progress.Type() == js.TypeFunction {
		last := time.Now()
		env.Progress = func(stage string, done, total int64) {
			if time.Since(last) > 100*time.Millisecond || done == total {
				last = time.Now()
				progress.Invoke(stage, float64(done), float64(total))
			}
		}
	}
	return s, env, nil
}

func planResult(p *compress.Plan) any {
	r := p.Result()
	return map[string]any{"budget_bytes": p.Budget, "fp32_bytes": p.FP32Bytes(), "tables": r.Tables, "rows": r.Rows(), "priority": p.Tables[0].PrioritySource}
}

// plan(settings, onProgress) measures every row once (the first time) and
// assigns tiers: the predicted size and error per table.
func plan(args []js.Value) (any, error) {
	if state.in == nil {
		return nil, fmt.Errorf("no file is open")
	}
	s, env, err := settings(arg(args, 0), arg(args, 1))
	if err != nil {
		return nil, err
	}
	if state.plan != nil {
		if err := state.plan.Reassign(s); err != nil {
			return nil, err
		}
		state.plan.SetProgress(nil, env.Progress)
		return planResult(state.plan), nil
	}
	p, err := compress.NewPlan(state.in, s, env)
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

// compressFile(settings, onProgress, onChunk) writes the .shark file.
func compressFile(args []js.Value) (any, error) {
	if _, err := plan(args); err != nil {
		return nil, err
	}
	onChunk := arg(args, 2)
	if onChunk.Type() != js.TypeFunction {
		return nil, fmt.Errorf("compress needs an onChunk function")
	}
	t0 := time.Now()
	w := &chunkWriter{buf: make([]byte, 0, 4<<20), onChunk: onChunk}
	if err := state.plan.Write(w); err != nil {
		return nil, err
	}
	w.flush()
	res := state.plan.Result()
	res.OutputBytes = w.n
	return map[string]any{"result": res, "seconds": time.Since(t0).Seconds(),
		"input_size": compress.Size(res.InputBytes), "output_size": compress.Size(res.OutputBytes)}, nil
}

// norms(name, bins) is a histogram of the table's row L2 norms.
func norms(args []js.Value) (any, error) {
	if state.in == nil {
		return nil, fmt.Errorf("no file is open")
	}
	bins := 30
	if b := arg(args, 1); b.Type() == js.TypeNumber {
		bins = b.Int()
	}
	return compress.Norms(state.in.File, arg(args, 0).String(), bins)
}

// export(to, layout, onChunk) writes the open .shark file as npz,
// safetensors or pt.
func export(args []js.Value) (any, error) {
	if state.in == nil {
		return nil, fmt.Errorf("no file is open")
	}
	rd, ok := state.in.Shark()
	if !ok {
		return nil, fmt.Errorf("export needs an open .shark file")
	}
	w := &chunkWriter{buf: make([]byte, 0, 4<<20), onChunk: arg(args, 2)}
	if err := compress.Export(rd, arg(args, 0).String(), compress.Layout(arg(args, 1).String()), w); err != nil {
		return nil, err
	}
	w.flush()
	return map[string]any{"bytes": w.n, "size": compress.Size(w.n)}, nil
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
