package browsertest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"shark/core"
	"shark/formats"
	"shark/formats/sharkfile"
)

// laterTiersShark is a .shark file (container version 2) of one table,
// "emb", of 1200 rows taking fp32, fp16, int8, int4, int2 and int4-block in
// turn.
func laterTiersShark(t *testing.T) []byte {
	tiers := []core.Tier{core.FP32, core.FP16, core.INT8, core.INT4, core.INT2, core.INT4B}
	tb := &core.Table{R: 1200, D: 8, Data: make([]float32, 1200*8)}
	for i := range tb.Data {
		tb.Data[i] = float32(i%31) - 15
	}
	rowTiers := make([]core.Tier, tb.R)
	for r := range rowTiers {
		rowTiers[r] = tiers[r%len(tiers)]
	}
	var buf bytes.Buffer
	w, err := sharkfile.NewWriterVersion(&buf, sharkfile.Major)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTable("emb", tb, rowTiers, sharkfile.TableInfo{SourceDType: formats.F32}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A .shark file of the later tiers opens in the page: the tier bar draws
// each tier in its own colour, and the table's legend names the later
// tiers its rows take in the colours the bar draws them.
func TestBrowserLaterTiers(t *testing.T) {
	ctx, _ := page(t)
	drop(t, ctx, "later.shark", laterTiersShark(t))
	waitJS(t, ctx, `document.querySelectorAll('#tensor-rows .tierbar').length === 1 && document.querySelectorAll('#table-cards .card .legend').length === 1`, time.Minute)
	shot(t, ctx, "later-tiers")
	bar := eval[string](t, ctx, `[...document.querySelectorAll('#tensor-rows .tierbar span')].map((s) => s.title.split(':')[0] + '=' + getComputedStyle(s).backgroundColor).join(' ')`)
	legend := eval[string](t, ctx, `[...document.querySelectorAll('#table-cards .card .legend span')].map((s) => s.textContent + '=' + getComputedStyle(s.querySelector('i')).backgroundColor).join(' ')`)
	want := "fp32 fp16 int8 int4 int2 int4-block"
	colours := map[string]string{}
	var names []string
	for _, kv := range strings.Fields(strings.ReplaceAll(bar, ", ", ",")) {
		name, colour, _ := strings.Cut(kv, "=")
		names = append(names, name)
		for n, c := range colours {
			if c == colour {
				t.Errorf("the bar draws %s and %s in one colour %s", n, name, c)
			}
		}
		if colour == "" || colour == "rgba(0,0,0,0)" {
			t.Errorf("the bar draws %s in %q", name, colour)
		}
		colours[name] = colour
	}
	if strings.Join(names, " ") != want {
		t.Fatalf("the bar draws %q, want %q", names, want)
	}
	if got := strings.ReplaceAll(legend, ", ", ","); !strings.Contains(got, "int2="+colours["int2"]) || !strings.Contains(got, "int4-block="+colours["int4-block"]) || strings.Contains(got, "int2-block") {
		t.Fatalf("the legend says %q; the bar draws %v", legend, colours)
	}
	if counts := eval[string](t, ctx, `document.querySelector('#table-cards .card .tiercounts').textContent`); !strings.Contains(counts, "int2 200") || !strings.Contains(counts, "int4-block 200") {
		t.Fatalf("the card counts %q", counts)
	}
}
