package compress

import (
	"strconv"

	"shark/core"
	"shark/formats"
	"shark/formats/sharkfile"
)

// Tied weights (formats.Tensor.SameAs) are one table under two names: the
// plan measures, budgets and stores the first name's, and the written file
// records the second as the same tensor, which an export writes back.

// RoleSameAs is a tensor that is an earlier one under another name.
const RoleSameAs = "same as"

// sameAsRole is the role of tensor t that is another: quoted, as the name
// comes from the file.
func sameAsRole(t *formats.Tensor) string { return RoleSameAs + " " + strconv.Quote(t.SameAs) }

// writeAlias records tensor t as the tensor it is the same as; a file of
// the tables alone (a row shard's part) holds neither.
func (p *Plan) writeAlias(sw *sharkfile.Writer, t *formats.Tensor) error {
	if p.TablesOnly {
		return nil
	}
	return sw.WriteAlias(t.Name, t.SameAs)
}

// tiedPairs pairs the export items of tensor alias, the same as tensor
// of, with of's items among items: of's own item (dense, or dequantized),
// else its tier items (<of>.<tier>.ids and .rows).
func tiedPairs(items []item, alias, of string) [][2]string {
	has := map[string]bool{}
	for _, it := range items {
		has[it.name] = true
	}
	if has[of] {
		return [][2]string{{alias, of}}
	}
	var out [][2]string
	for tier := core.Tier(0); tier < core.NumTiers; tier++ {
		for _, part := range []string{"ids", "rows"} {
			if sfx := "." + tier.String() + "." + part; has[of+sfx] {
				out = append(out, [2]string{alias + sfx, of + sfx})
			}
		}
	}
	return out
}

// aliasItems are the export items of tensor t, the same as an earlier one
// whose items are among items: that one's under t's name, reading the same
// data.
func aliasItems(items []item, t *formats.Tensor) []item {
	byName := map[string]item{}
	for _, it := range items {
		byName[it.name] = it
	}
	var out []item
	for _, p := range tiedPairs(items, t.Name, t.SameAs) {
		it := byName[p[1]]
		it.name = p[0]
		out = append(out, it)
	}
	return out
}

// sameItems maps each export item of a tied tensor of f to the item it is
// the same as: a checkpoint stores their data once.
func sameItems(f *formats.File, items []item) map[string]string {
	same := map[string]string{}
	for _, t := range f.Tensors {
		if t.SameAs != "" {
			for _, p := range tiedPairs(items, t.Name, t.SameAs) {
				same[p[0]] = p[1]
			}
		}
	}
	return same
}
