package formats

import (
	"fmt"
	"strings"
	"unicode"
)

// The evidence that a tensor is an embedding table, strongest first: a
// graph's Gather node reads rows from it (an ONNX model, at any depth of its
// subgraphs); its name is the weight of a PyTorch embedding module
// (EmbeddingName); its size (at least minRows rows). Tables smaller than any
// size rule are common (a 944-row user table of MovieLens-100K, a 500-row
// nn.EmbeddingBag), and the first two do not depend on size.

// TableReason reports whether t is a candidate embedding table, and why it
// is or is not, in words every face shows.
func (t *Tensor) TableReason(minRows int64) (bool, string) {
	switch {
	case t.OptimizerState:
		return false, "optimizer state (--tables names it to compress it)"
	case len(t.Shape) != 2:
		return false, fmt.Sprintf("%d-D, not 2-D", len(t.Shape))
	case !t.DType.IsFloat():
		return false, fmt.Sprintf("%s, not float", t.DType)
	case t.Shape[0] == 0 || t.Shape[1] == 0:
		return false, "no rows or no columns"
	case len(t.GatheredBy) > 0:
		return true, "read by Gather " + strings.Join(t.GatheredBy, ", ")
	case EmbeddingName(t.Name):
		return true, "named as an embedding module's weight"
	case t.Shape[0] >= minRows:
		return true, fmt.Sprintf("size: %d rows ≥ %d", t.Shape[0], minRows)
	}
	return false, fmt.Sprintf("size: %d rows < %d; no Gather reads it, no embedding name", t.Shape[0], minRows)
}

// embeddingWords are the words of PyTorch module names that hold embedding
// tables: DLRM's emb_l, NCF's embed_user / emb_user, TorchRec's
// embedding_bags, Hugging Face's embeddings.word_embeddings.
var embeddingWords = map[string]bool{"emb": true, "embs": true, "embed": true, "embeds": true, "embedding": true, "embeddings": true}

// notTableWords name modules whose weight is no table even inside an
// embedding module: a projection or a norm beside the tables.
var notTableWords = map[string]bool{"proj": true, "projection": true, "linear": true, "fc": true, "norm": true, "layernorm": true,
	"ln": true, "mlp": true, "dense": true, "conv": true, "lstm": true, "gru": true, "rnn": true, "attn": true, "attention": true}

// EmbeddingName reports whether a state_dict key names the weight of an
// embedding module: "<modules>.weight" where a module's name has an
// embedding word (emb, embed, embedding, embeddings, embedding_bags...) and
// the module owning the weight is no projection or norm.
func EmbeddingName(key string) bool {
	parts := strings.Split(key, ".")
	if len(parts) < 2 || parts[len(parts)-1] != "weight" {
		return false
	}
	mods := parts[:len(parts)-1]
	for _, w := range words(mods[len(mods)-1]) {
		if notTableWords[w] {
			return false
		}
	}
	for _, m := range mods {
		for _, w := range words(m) {
			if embeddingWords[w] {
				return true
			}
		}
	}
	return false
}

// words splits a module name into lower-case words at underscores,
// hyphens, digits and lower-to-upper case changes: "emb_user" -> emb user,
// "userEmbedding" -> user embedding, "embedding_bags" -> embedding bags.
func words(name string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	prevLower := false
	for _, r := range name {
		switch {
		case !unicode.IsLetter(r):
			flush()
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			flush()
		}
		cur = append(cur, r)
		prevLower = unicode.IsLower(r)
	}
	flush()
	return out
}
