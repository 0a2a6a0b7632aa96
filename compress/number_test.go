package compress

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// JSON never fails on a non-finite error (a crafted header's, or a row's):
// it writes null, and finite values as numbers.
func TestJSONWritesNullForNonFinite(t *testing.T) {
	r := Result{Tables: []TableResult{{}, {}, {}}}
	s := Summary{Tensors: []TensorSummary{{}}}
	for i, v := range []float64{math.NaN(), math.Inf(1), 0.25} {
		reflect.ValueOf(&r.Tables[i].RMSE).Elem().SetFloat(v)
		reflect.ValueOf(&r.Tables[i].MaxAbsErr).Elem().SetFloat(-v)
	}
	reflect.ValueOf(&s.Tensors[0].RMSE).Elem().SetFloat(math.Inf(-1))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"rmse":null,"max_abs_err":null`, `"rmse":0.25,"max_abs_err":-0.25`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("%s lacks %s", b, want)
		}
	}
	if b, err := json.Marshal(s); err != nil || !strings.Contains(string(b), `"rmse":null`) {
		t.Fatalf("%s: %v", b, err)
	}
}
