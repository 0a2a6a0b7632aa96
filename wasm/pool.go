//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall/js"
	"time"

	"shark/compress"
	"shark/core"
	"shark/formats/sharkfile"
)

// pool is the page's other Web Workers, each running this program with
// the same file (and counts) open: worker.js makes them, one for each
// core but this one's, and gives their measure and cancel here. A plan
// measures the first rows of each large table itself and the others' row
// ranges on them, at the same time.
type pool struct {
	size    int
	measure js.Value // (i, settings, table, lo, hi, onProgress) => Promise<Uint8Array>
	cancel  js.Value // (i) => undefined
	encode  js.Value // (i, table, lo, hi, tiers, onProgress) => Promise<Uint8Array[][]>, an array a tier
}

// setPool(n, measure, cancel, encode) is called by worker.js once its helpers are made.
func setPool(_ js.Value, args []js.Value) any {
	if len(args) < 4 || args[0].Type() != js.TypeNumber {
		return js.Global().Get("Error").New("pool needs (n, measure, cancel, encode)")
	}
	state.pool = pool{size: args[0].Int(), measure: args[1], cancel: args[2], encode: args[3]}
	return nil
}

// helpers are the pool's workers as compress.Helpers, measuring under the
// settings given (the same JSON the plan reads).
func (p pool) helpers(settings string) []compress.Helper {
	var hs []compress.Helper
	for i := range p.size {
		hs = append(hs, func(ctx context.Context, table string, lo, hi int, progress func(int)) ([]core.RowStat, error) {
			return p.ask(ctx, i, settings, table, lo, hi, progress)
		})
	}
	return hs
}

// ask has worker i measure rows [lo, hi) of table, and waits for its
// answer or the job's cancel, which it passes on.
func (p pool) ask(ctx context.Context, i int, settings, table string, lo, hi int, progress func(int)) ([]core.RowStat, error) {
	type answer struct {
		b   []byte
		err error
	}
	ch := make(chan answer, 1)
	var onProgress, then, catch js.Func
	release := func() { onProgress.Release(); then.Release(); catch.Release() }
	onProgress = js.FuncOf(func(_ js.Value, a []js.Value) any { progress(a[0].Int()); return nil })
	then = js.FuncOf(func(_ js.Value, a []js.Value) any {
		b := make([]byte, a[0].Get("length").Int())
		js.CopyBytesToGo(b, a[0])
		ch <- answer{b: b}
		release()
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- answer{err: errors.New(a[0].Get("message").String())}
		release()
		return nil
	})
	mark("worker %d asked to measure rows %d..%d of %s", i+2, lo, hi, table)
	p.measure.Invoke(i, settings, table, lo, hi, onProgress).Call("then", then, catch)
	select {
	case a := <-ch:
		mark("worker %d measured rows %d..%d", i+2, lo, hi)
		if a.err != nil {
			return nil, fmt.Errorf("worker %d: %w", i+1, a.err)
		}
		state.helped++
		return compress.ReadRowStats(a.b)
	case <-ctx.Done():
		p.cancel.Invoke(i) // its answer, when it comes, releases the callbacks
		return nil, ctx.Err()
	}
}

// measureRange(settings, table, lo, hi, onProgress) is a helper's work
// (compress.MeasureRange) on its open file: the rows' stats as bytes.
func measureRange(args []js.Value) (any, error) {
	ctx, done := job()
	defer done()
	if state.in == nil {
		return nil, fmt.Errorf("no file is open")
	}
	s, env, err := settings(ctx, arg(args, 0), js.Undefined())
	if err != nil {
		return nil, err
	}
	env.Helpers = nil
	onProgress, last := arg(args, 4), time.Now()
	progress := func(d int) {
		if time.Since(last) > 100*time.Millisecond {
			last = time.Now()
			if onProgress.Type() == js.TypeFunction {
				onProgress.Invoke(d)
			}
			yield()
		}
	}
	stats, err := compress.MeasureRange(state.in, s, env, arg(args, 1).String(), arg(args, 2).Int(), arg(args, 3).Int(), progress)
	if err != nil {
		return nil, cancelled(ctx, err)
	}
	b := compress.AppendRowStats(make([]byte, 0, len(stats)*compress.RowStatBytes), stats)
	u8 := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	return u8, nil
}

// encoders are the pool's workers as compress.Encoders: a large table is
// written in row ranges, one on each Worker at once.
func (p pool) encoders() []compress.Encoder {
	var es []compress.Encoder
	for i := range p.size {
		es = append(es, func(ctx context.Context, table string, lo, hi int, tiers []core.Tier, progress func(int)) (sharkfile.RowsPart, error) {
			return p.askEncode(ctx, i, table, lo, hi, tiers, progress)
		})
	}
	return es
}

// askEncode has worker i encode rows [lo, hi) of table in the tiers
// given, and waits for its part or the job's cancel, which it passes on.
// The part stays in JavaScript's memory until it is written.
func (p pool) askEncode(ctx context.Context, i int, table string, lo, hi int, tiers []core.Tier, progress func(int)) (sharkfile.RowsPart, error) {
	type answer struct {
		part *jsPart
		err  error
	}
	ch := make(chan answer, 1)
	var onProgress, then, catch js.Func
	release := func() { onProgress.Release(); then.Release(); catch.Release() }
	onProgress = js.FuncOf(func(_ js.Value, a []js.Value) any { progress(a[0].Int()); return nil })
	then = js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- answer{part: newJSPart(a[0])}
		release()
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- answer{err: errors.New(a[0].Get("message").String())}
		release()
		return nil
	})
	u8 := js.Global().Get("Uint8Array").New(len(tiers))
	b := make([]byte, len(tiers))
	for k, t := range tiers {
		b[k] = byte(t)
	}
	js.CopyBytesToJS(u8, b)
	mark("worker %d asked to encode rows %d..%d of %s", i+2, lo, hi, table)
	p.encode.Invoke(i, table, lo, hi, u8, onProgress).Call("then", then, catch)
	select {
	case a := <-ch:
		mark("worker %d encoded rows %d..%d", i+2, lo, hi)
		if a.err != nil {
			return nil, fmt.Errorf("worker %d: %w", i+1, a.err)
		}
		state.encoded++
		return a.part, nil
	case <-ctx.Done():
		p.cancel.Invoke(i) // its answer, when it comes, releases the callbacks
		return nil, ctx.Err()
	}
}

// jsPart is a helper's encoded rows: for each tier, the Uint8Arrays it
// wrote, in order.
type jsPart struct {
	chunks [core.NumTiers][]js.Value
	bytes  [core.NumTiers]int64
}

// newJSPart reads a helper's answer: an array a tier of Uint8Arrays.
func newJSPart(v js.Value) *jsPart {
	p := &jsPart{}
	for t := range p.chunks {
		arr := v.Index(t)
		for j := range arr.Length() {
			c := arr.Index(j)
			p.chunks[t] = append(p.chunks[t], c)
			p.bytes[t] += int64(c.Length())
		}
	}
	return p
}

func (p *jsPart) TierBytes(t core.Tier) int64 { return p.bytes[t] }

// WriteTier copies the tier's chunks into this program's memory one at a
// time, and writes each.
func (p *jsPart) WriteTier(t core.Tier, w io.Writer) error {
	var buf []byte
	for _, c := range p.chunks[t] {
		n := c.Length()
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		js.CopyBytesToGo(buf[:n], c)
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
	}
	return nil
}

// jsChunks is a writer that keeps what it is given in JavaScript, a
// Uint8Array a write, in an array: a helper's encoded tier.
type jsChunks struct{ arr js.Value }

func (c jsChunks) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	u8 := js.Global().Get("Uint8Array").New(len(p))
	js.CopyBytesToJS(u8, p)
	c.arr.Call("push", u8)
	return len(p), nil
}

// encodeRange(table, lo, tiers, onProgress) is a helper's work
// (compress.EncodeRange) on its open file: rows [lo, lo+tiers.length) of
// the table encoded, row lo+i in tier tiers[i], as an array (one a
// tier) of Uint8Array, for every tier there is.
func encodeRange(args []js.Value) (any, error) {
	ctx, done := job()
	defer done()
	if state.in == nil {
		return nil, fmt.Errorf("no file is open")
	}
	u8 := arg(args, 2)
	b := make([]byte, u8.Length())
	js.CopyBytesToGo(b, u8)
	tiers := make([]core.Tier, len(b))
	for k, x := range b {
		tiers[k] = core.Tier(x)
	}
	out := js.Global().Get("Array").New()
	var ws [core.NumTiers]io.Writer
	for t := range ws {
		c := jsChunks{js.Global().Get("Array").New()}
		out.Call("push", c.arr)
		ws[t] = c
	}
	onProgress, last := arg(args, 3), time.Now()
	progress := func(d int) {
		if time.Since(last) > 100*time.Millisecond {
			last = time.Now()
			if onProgress.Type() == js.TypeFunction {
				onProgress.Invoke(d)
			}
			yield()
		}
	}
	if err := compress.EncodeRange(state.in, compress.Env{Context: ctx}, arg(args, 0).String(), arg(args, 1).Int(), tiers, ws, progress); err != nil {
		return nil, cancelled(ctx, err)
	}
	return out, nil
}

// jsBuffer is a compress.PartBuffer in JavaScript's memory: the range a
// table's writing encodes here waits there for the helpers' ranges, and
// this program's memory, which never shrinks, stays small.
type jsBuffer struct{ tiers [core.NumTiers]jsChunks }

func newJSBuffer() compress.PartBuffer {
	b := &jsBuffer{}
	for t := range b.tiers {
		b.tiers[t] = jsChunks{js.Global().Get("Array").New()}
	}
	return b
}

// Writers are every tier's, however many tiers there are: a nil writer for
// a tier after int4 failed the page's every write once there were eight.
func (b *jsBuffer) Writers() [core.NumTiers]io.Writer {
	var ws [core.NumTiers]io.Writer
	for t := range ws {
		ws[t] = b.tiers[t]
	}
	return ws
}

func (b *jsBuffer) part() *jsPart {
	arr := js.Global().Get("Array").New()
	for _, c := range b.tiers {
		arr.Call("push", c.arr)
	}
	return newJSPart(arr)
}

func (b *jsBuffer) TierBytes(t core.Tier) int64 { return b.part().TierBytes(t) }

func (b *jsBuffer) WriteTier(t core.Tier, w io.Writer) error { return b.part().WriteTier(t, w) }
