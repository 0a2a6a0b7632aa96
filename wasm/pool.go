//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
	"time"

	"shark/compress"
	"shark/core"
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
}

// setPool(n, measure, cancel) is called by worker.js once its helpers are made.
func setPool(_ js.Value, args []js.Value) any {
	if len(args) < 3 || args[0].Type() != js.TypeNumber {
		return js.Global().Get("Error").New("pool needs (n, measure, cancel)")
	}
	state.pool = pool{size: args[0].Int(), measure: args[1], cancel: args[2]}
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
	p.measure.Invoke(i, settings, table, lo, hi, onProgress).Call("then", then, catch)
	select {
	case a := <-ch:
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
