package compress

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/core"
	"shark/formats"
	"shark/formats/npy"
)

// A shard's tiers from a budget decided elsewhere (AssignAt, as
// shark-dist's workers take them) honour tiers leaving fp32 out only as
// a whole plan does: a row no allowed tier holds is an error naming it,
// not a silent fp32 row.
func TestAssignAtWithoutFP32NeedsEveryRowHeld(t *testing.T) {
	const rows, dim = 1200, 8
	vals := make([]float32, rows*dim)
	for i := range vals {
		vals[i] = float32(math.Sin(float64(i))) * 0.1
	}
	for j := range dim {
		vals[5*dim+j] = 1e5 * float32(j+1) // past binary16: only fp32 holds it
	}
	path := filepath.Join(t.TempDir(), "big.npy")
	var b bytes.Buffer
	if err := npy.Write(&b, formats.F32, []int64{rows, dim}, bytes.NewReader(formats.EncodeFloat32(nil, vals))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	p, err := NewPlan(in, DefaultSettings(), Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.AssignAt(1e-12); err != nil {
		t.Fatalf("every tier: %v", err)
	}
	p.Settings.Tiers = "fp16,int8,int4"
	var ue *core.UnheldError
	err = p.AssignAt(1e-12)
	if !errors.As(err, &ue) || ue.Row != 5 || !strings.HasPrefix(err.Error(), `table "big": row 5 of table 0`) {
		t.Fatalf("fp32 left out: %v", err)
	}
}
