package formats

import (
	"strings"
	"testing"
)

// The state_dict keys of real recommenders' embedding modules are known
// by name, and their projections, norms and dense layers are not.
func TestEmbeddingName(t *testing.T) {
	for key, want := range map[string]bool{
		"emb_user.weight":       true, // NCF for MovieLens-100K: 944-row user tables
		"emb_item.weight":       true,
		"embed_user_GMF.weight": true,
		"emb_l.0.weight":        true, // DLRM
		"model.emb_l.3.weight":  true, // a training checkpoint's model
		"sparse_arch.embedding_bag_collection.embedding_bags.t_cat_0.weight": true, // TorchRec
		"bert.embeddings.word_embeddings.weight":                             true,
		"userEmbedding.weight":                                               true,
		"bert.embeddings.LayerNorm.weight":                                   false,
		"emb_proj.weight":                                                    false,
		"embeddings.fc.weight":                                               false,
		"mlp.0.weight":                                                       false,
		"member.weight":                                                      false, // "emb" inside a word
		"emb_user.bias":                                                      false,
		"user_embedding_W":                                                   false, // no module path: the size rule decides
	} {
		if got := EmbeddingName(key); got != want {
			t.Errorf("%s: %v, want %v", key, got, want)
		}
	}
}

// TableReason gives each verdict with the evidence behind it, and IsTable
// agrees with it.
func TestTableReason(t *testing.T) {
	cases := []struct {
		t      Tensor
		table  bool
		reason string
	}{
		{Tensor{Name: "emb_user.weight", DType: F32, Shape: []int64{944, 64}}, true, "embedding module"},
		{Tensor{Name: "bag", DType: F32, Shape: []int64{500, 16}, GatheredBy: []string{"/bag/Gather_4"}}, true, "Gather /bag/Gather_4"},
		{Tensor{Name: "user_embedding_W", DType: F32, Shape: []int64{6040, 32}}, true, "6040 rows ≥ 1000"},
		{Tensor{Name: "layer1_W", DType: F32, Shape: []int64{64, 32}}, false, "64 rows < 1000"},
		{Tensor{Name: "emb.weight", DType: I64, Shape: []int64{944, 4}}, false, "not float"},
		{Tensor{Name: "emb.weight", DType: F32, Shape: []int64{944}}, false, "1-D"},
		{Tensor{Name: "state.0.exp_avg", DType: F32, Shape: []int64{5000, 8}, OptimizerState: true}, false, "optimizer"},
	}
	for _, c := range cases {
		ok, why := c.t.TableReason(1000)
		if ok != c.table || !strings.Contains(why, c.reason) || c.t.IsTable(1000) != ok {
			t.Errorf("%s %v: %v %q, want %v %q", c.t.Name, c.t.Shape, ok, why, c.table, c.reason)
		}
	}
	small := Tensor{Name: "w", DType: F32, Shape: []int64{944, 64}}
	if !small.IsTable(900) || small.IsTable(1000) {
		t.Error("the size rule does not follow minRows")
	}
}
