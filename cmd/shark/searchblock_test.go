package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"shark/core"
	"shark/formats/sharkfile"
)

// compress --max-auc-drop with every tier and no --block searches block
// sizes too: --json's block and budget_search.block name the one chosen,
// the probes name theirs (more than one size tried), the probe of the
// budget chosen is within at the bytes stored, and every table of the
// file written with block-tier rows has blocks of that size.
func TestCompressSearchRecordsBlock(t *testing.T) {
	const criteo = "../../../shared/data/criteo-10k.tsv"
	if _, err := os.Stat(criteo); err != nil {
		t.Skipf("needs the real Criteo sample %s; ../shared/data is absent", criteo)
	}
	dir := t.TempDir()
	mdl, out := filepath.Join(dir, "m.shark"), filepath.Join(dir, "c.shark")
	if code, _, e := shark(t, "train", criteo, "-o", mdl); code != 0 {
		t.Fatal(e)
	}
	code, stdout, e := shark(t, "compress", mdl, criteo, "--keep-fraction", "1", "--max-auc-drop", "0.001", "--tiers", "all", "-o", out, "--json")
	var r struct {
		Block  int   `json:"block"`
		Bytes  int64 `json:"embedding_bytes_after"`
		Search struct {
			Block  int   `json:"block"`
			Bytes  int64 `json:"bytes"`
			Probes []struct {
				Block  int   `json:"block"`
				Bytes  int64 `json:"bytes"`
				Within bool  `json:"within"`
			} `json:"probes"`
		} `json:"budget_search"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &r) != nil {
		t.Fatalf("exit %d: %s %s", code, stdout, e)
	}
	sizes, chosen := map[int]bool{}, false
	for _, p := range r.Search.Probes {
		sizes[p.Block] = true
		chosen = chosen || (p.Block == r.Block && p.Bytes == r.Bytes && p.Within)
	}
	if r.Block == 0 || r.Search.Block != r.Block || r.Search.Bytes != r.Bytes || len(sizes) < 2 || sizes[0] || !chosen {
		t.Fatalf("block %d, search block %d, %d bytes (search %d), probes' blocks %v, the chosen one's probe found: %v", r.Block, r.Search.Block, r.Bytes, r.Search.Bytes, sizes, chosen)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	rd, err := sharkfile.NewReader(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tb := range rd.Tables() {
		if c := tb.Counts(); c[core.INT8B]+c[core.INT4B]+c[core.INT2B] > 0 {
			if n++; tb.Block() != r.Block {
				t.Fatalf("table %s: blocks of %d rows in the file, %d chosen", tb.Name(), tb.Block(), r.Block)
			}
		}
	}
	if n == 0 {
		t.Fatal("no table of the file holds block-tier rows")
	}
	t.Logf("blocks of %d rows chosen of %v; %d tables in them", r.Block, sizes, n)
}
