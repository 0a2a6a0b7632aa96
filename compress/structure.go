package compress

import (
	"strings"

	"shark/formats"
)

// ptStructure is the structure a pt export writes: the source checkpoint's
// own (its dicts, lists and scalars, each tensor where it was), with each
// table exported as tiers replaced, where it stood, by its tier tensors:
// beside its key in a dict ("emb.weight" by "emb.weight.int8.rows" and the
// rest), or as a dict of them in a list.
func ptStructure(n *formats.Node, items []item) *formats.Node {
	leaves := map[string]bool{}
	for _, t := range n.Tensors() {
		leaves[t] = true
	}
	parts := map[string][]string{}
	for _, it := range items {
		if t, ok := tableOf(it.name, leaves); ok {
			parts[t] = append(parts[t], it.name)
		}
	}
	if len(parts) == 0 {
		return n
	}
	return withParts(n, parts)
}

// tableOf finds the tensor of the structure an export item is a part of
// ("emb.weight" of "emb.weight.int8.rows"): the longest leaf its name
// extends; none if the item is a leaf itself.
func tableOf(item string, leaves map[string]bool) (string, bool) {
	if leaves[item] {
		return "", false
	}
	for i := strings.LastIndexByte(item, '.'); i > 0; i = strings.LastIndexByte(item[:i], '.') {
		if leaves[item[:i]] {
			return item[:i], true
		}
	}
	return "", false
}

// withParts copies n, replacing the tables in parts by their tiers.
func withParts(n *formats.Node, parts map[string][]string) *formats.Node {
	if !n.Kind.IsContainer() {
		if p, ok := parts[n.Str]; ok && n.Kind == formats.NodeTensor {
			return partsDict(n.Str, "", p)
		}
		return n
	}
	out := &formats.Node{Kind: n.Kind}
	dict := len(n.Keys) == len(n.Items) && (n.Kind == formats.NodeDict || n.Kind == formats.NodeOrderedDict)
	for i, it := range n.Items {
		p, ok := parts[it.Str]
		if dict && ok && it.Kind == formats.NodeTensor && n.Keys[i].Kind == formats.NodeStr {
			// The tiers take the table's place among its dict's keys.
			d := partsDict(it.Str, n.Keys[i].Str+".", p)
			out.Keys = append(out.Keys, d.Keys...)
			out.Items = append(out.Items, d.Items...)
			continue
		}
		if dict {
			out.Keys = append(out.Keys, n.Keys[i])
		}
		out.Items = append(out.Items, withParts(it, parts))
	}
	return out
}

// partsDict is a dict of a table's tier tensors, keyed by prefix and what
// follows the table's name in theirs ("int8.rows").
func partsDict(table, prefix string, names []string) *formats.Node {
	d := &formats.Node{Kind: formats.NodeDict}
	for _, nm := range names {
		d.Keys = append(d.Keys, &formats.Node{Kind: formats.NodeStr, Str: prefix + strings.TrimPrefix(nm, table+".")})
		d.Items = append(d.Items, &formats.Node{Kind: formats.NodeTensor, Str: nm})
	}
	return d
}
