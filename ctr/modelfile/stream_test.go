package modelfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"shark/core"
	"shark/ctr/internal/ctrtest"
)

// A model whose tables take tiers after int4 streams to a writer that
// cannot seek (version 2 declared from the start: it failed, a stream
// begun as version 1) as the same bytes Save writes to a file.
func TestWriteStreamsVersion2(t *testing.T) {
	enc, ds, _ := ctrtest.SynthData(t, 2000, 4)
	m, _, _ := ctrtest.Trained(t, ds, 1)
	for _, f := range m.Slots {
		tiers := make([]core.Tier, m.Emb[f].Rows())
		for r := range tiers {
			tiers[r] = core.Tier((r + f) % core.NumTiers)
		}
		mx, err := core.EncodeBlocks(m.Emb[f], tiers, 16)
		if err != nil {
			t.Fatal(err)
		}
		m.Emb[f] = mx
	}
	p := filepath.Join(t.TempDir(), "m.shark")
	if err := Save(p, m, enc, Record{}); err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	if err := Write(&stream, m, enc, Record{}); err != nil {
		t.Fatal(err)
	}
	if file, err := os.ReadFile(p); err != nil || !bytes.Equal(file, stream.Bytes()) {
		t.Fatalf("the stream (%d bytes) differs from the file (%v)", stream.Len(), err)
	}
}
