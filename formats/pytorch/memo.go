package pytorch

// memo is the pickle's memo. pickle.py numbers its entries 0, 1, 2, ...
// (MEMOIZE takes the next number), so they are kept in a slice: a map of
// 4 Mi entries took 8 s and 370 MB to build, the slice 64 MB. Numbers out of
// that order go to a map.
type memo struct {
	dense  []any
	sparse map[uint32]any
}

func (mm *memo) len() int { return len(mm.dense) + len(mm.sparse) }

func (mm *memo) get(idx uint32) (any, bool) {
	if int64(idx) < int64(len(mm.dense)) {
		return mm.dense[idx], true
	}
	v, ok := mm.sparse[idx]
	return v, ok
}

// put sets entry idx, and says whether it is a new one.
func (mm *memo) put(idx uint32, v any) bool {
	switch n := int64(len(mm.dense)); {
	case int64(idx) < n:
		mm.dense[idx] = v
		return false
	case int64(idx) == n:
		mm.dense = append(mm.dense, v) // an entry also in sparse is found here first from now on
		return true
	}
	if mm.sparse == nil {
		mm.sparse = map[uint32]any{}
	}
	_, had := mm.sparse[idx]
	mm.sparse[idx] = v
	return !had
}
