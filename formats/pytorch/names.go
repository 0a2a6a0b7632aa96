package pytorch

import (
	"fmt"
	"strconv"

	"shark/formats"
)

// maxDepth bounds how deeply tensors may nest in dicts and lists; a pickle
// can also make a list hold itself, which the walk refuses.
const maxDepth = 64

// maxMeta bounds the scalars kept as metadata (an "epoch": 3 beside the
// state_dict).
const maxMeta = 64

// named is a tensor found at a dotted path.
type named struct {
	path string
	t    *tensor
}

// walker collects the tensors of an unpickled object by dotted path, as
// state_dict keys are spelled ("emb.weight", "model.0.bias").
type walker struct {
	tensors []named
	meta    map[string]string
	open    map[any]bool // the dicts and lists on the current path
	// budget bounds the values visited. A pickle can make one list hold
	// another twice, that one a third twice, and so on: 64 such lists would
	// take 2^64 steps to walk. Each value a pickle shows costs it a byte at
	// least, so a walk of more values than its bytes is such a pickle.
	budget int
}

func (w *walker) walk(v any, path string, depth int) error {
	if w.budget--; w.budget < 0 {
		return formats.Errorf(name, -1, formats.ErrUnsupported, "the pickle shows its objects more times than it has bytes (a list repeating itself)")
	}
	if depth > maxDepth {
		return formats.Errorf(name, -1, formats.ErrUnsupported, "%q nests deeper than %d levels", path, maxDepth)
	}
	switch v := v.(type) {
	case *tensor:
		w.tensors = append(w.tensors, named{path, v})
	case *pyDict:
		return w.container(v, path, depth, v.keys, v.vals)
	case *pyList:
		return w.container(v, path, depth, nil, v.items)
	case pyTuple:
		return w.container(nil, path, depth, nil, v)
	case string, int64, float64, bool:
		if len(w.meta) < maxMeta && path != "" {
			w.meta[path] = fmt.Sprint(v)
		}
	}
	return nil
}

// container walks a dict's values by key, or a list's by index.
func (w *walker) container(id any, path string, depth int, keys, vals []any) error {
	if id != nil {
		if w.open[id] {
			return formats.Errorf(name, -1, formats.ErrCorrupt, "%q holds itself", path)
		}
		w.open[id] = true
		defer delete(w.open, id)
	}
	for i, v := range vals {
		key := strconv.Itoa(i)
		if keys != nil {
			k, ok := keyString(keys[i])
			if !ok {
				continue // a key shark cannot name (a tuple) holds no state_dict entry
			}
			key = k
		}
		if path != "" {
			key = path + "." + key
		}
		if err := w.walk(v, key, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func keyString(k any) (string, bool) {
	switch k := k.(type) {
	case string:
		return k, true
	case int64:
		return strconv.FormatInt(k, 10), true
	}
	return "", false
}

// wrappers are the keys under which training scripts save a state_dict
// beside other things ({"state_dict": ..., "epoch": 3}); when every tensor
// is under one, the names drop it, so that they are the state_dict's keys.
var wrappers = []string{"state_dict", "model_state_dict"}

func unwrap(ts []named) (string, []named) {
	for _, w := range wrappers {
		p := w + "."
		all := len(ts) > 0
		for _, t := range ts {
			if len(t.path) <= len(p) || t.path[:len(p)] != p {
				all = false
				break
			}
		}
		if all {
			out := make([]named, len(ts))
			for i, t := range ts {
				out[i] = named{t.path[len(p):], t.t}
			}
			return w, out
		}
	}
	return "", ts
}
