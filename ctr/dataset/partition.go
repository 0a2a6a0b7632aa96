package dataset

import "shark/ctr/model"

// Part is some rows of a dataset with their keys.
type Part struct {
	*model.Dataset
	Keys []RowKey
}

// Partition splits the rows of ds (keys in row order) by in: the rows it
// accepts, and the others.
func Partition(ds *model.Dataset, keys []RowKey, in func(RowKey) bool) (yes, no Part) {
	var a, b []int
	for i, k := range keys {
		if in(k) {
			a = append(a, i)
			yes.Keys = append(yes.Keys, k)
		} else {
			b = append(b, i)
			no.Keys = append(no.Keys, k)
		}
	}
	yes.Dataset, no.Dataset = ds.Subset(a), ds.Subset(b)
	return yes, no
}

// SplitByKey holds out the rows of share split chosen by seed (HeldOut):
// the rows to train on, and the held-out ones.
func SplitByKey(ds *model.Dataset, keys []RowKey, split float64, seed uint64) (train, held Part) {
	held, train = Partition(ds, keys, func(k RowKey) bool { return HeldOut(k, split, seed) })
	return train, held
}

// Join is the rows of a, then those of b (of the same encoding).
func Join(a, b Part) Part {
	ds := &model.Dataset{Fields: a.Fields, Vocab: a.Vocab,
		IDs:    append(append([]int32{}, a.IDs...), b.IDs...),
		Labels: append(append([]float32{}, a.Labels...), b.Labels...)}
	return Part{Dataset: ds, Keys: append(append([]RowKey{}, a.Keys...), b.Keys...)}
}
