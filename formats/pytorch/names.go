package pytorch

import (
	"fmt"
	"strconv"
	"strings"

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
	opt  bool // an optimizer's state (see optimizerKey)
}

// walker collects the tensors of an unpickled object by dotted path, as
// state_dict keys are spelled ("emb.weight", "model.0.bias").
type walker struct {
	tensors []named
	meta    map[string]string
	open    map[any]bool // the dicts and lists on the current path
	// seen holds the containers walked. A memo reference shows a container
	// again at no cost (a config dict in a list 200 times, or, in a hostile
	// pickle, one list holding another twice, that one a third twice: 2^64
	// paths for 64 lists), so each is walked once, at its first path; the
	// tensors it holds are named by that path.
	seen map[any]bool
	// budget bounds the values visited. Each container is walked once, and
	// each value in one costs the pickle a byte at least, so a walk of more
	// values than its bytes would be a bug.
	budget int
}

// walk collects what v holds, found at path.
func (w *walker) walk(v any, path string, depth int) error { return w.visit(v, path, depth, false) }

// visit is walk with opt saying whether v is an optimizer's state.
func (w *walker) visit(v any, path string, depth int, opt bool) error {
	if w.budget--; w.budget < 0 {
		return formats.Errorf(name, -1, formats.ErrCorrupt, "the walk visits more values than the pickle has bytes")
	}
	if depth > maxDepth {
		return formats.Errorf(name, -1, formats.ErrUnsupported, "%q nests deeper than %d levels", path, maxDepth)
	}
	switch v := v.(type) {
	case *tensor:
		w.tensors = append(w.tensors, named{path, v, opt})
	case *pyDict:
		return w.container(v, path, depth, v.keys, v.vals, opt)
	case *pyList:
		return w.container(v, path, depth, nil, v.items, opt)
	case pyTuple:
		return w.container(tupleID(v), path, depth, nil, v, opt)
	case string, int64, float64, bool:
		if len(w.meta) < maxMeta && path != "" {
			w.meta[path] = fmt.Sprint(v)
		}
	}
	return nil
}

// container walks a dict's values by key, or a list's by index; opt says
// they are an optimizer's state, as is what an optimizer key or the
// "state" of an Optimizer.state_dict() holds, and a dict keyed by the
// optimizers' per-parameter state names (see isParamState).
func (w *walker) container(id any, path string, depth int, keys, vals []any, opt bool) error {
	optDict := keys != nil && isOptimizerStateDict(keys, vals)
	paramState := keys != nil && isParamState(keys)
	if id != nil {
		if w.open[id] {
			return formats.Errorf(name, -1, formats.ErrCorrupt, "%q holds itself", path)
		}
		if w.seen[id] {
			return nil // walked at its first path
		}
		if w.seen == nil {
			w.seen = map[any]bool{}
		}
		w.seen[id] = true
		w.open[id] = true
		defer delete(w.open, id)
	}
	for i, v := range vals {
		if !pathed(v) && len(w.meta) >= maxMeta {
			// A scalar no longer kept as metadata needs no path: a list of
			// 30 M Nones made 30 M strings to walk.
			if err := w.visit(v, "", depth+1, opt); err != nil {
				return err
			}
			continue
		}
		key := strconv.Itoa(i)
		inOpt := opt
		if keys != nil {
			k, ok := keyString(keys[i])
			if !ok {
				continue // a key shark cannot name (a tuple) holds no state_dict entry
			}
			key = k
			inOpt = opt || paramState || (optimizerKey(keys[i]) && holds(v)) || (optDict && k == "state")
		}
		if path != "" {
			key = path + "." + key
		}
		if err := w.visit(v, key, depth+1, inOpt); err != nil {
			return err
		}
	}
	return nil
}

// pathed reports a value the walk names by its path: a tensor, or a
// container that may hold one.
func pathed(v any) bool {
	switch v.(type) {
	case *tensor, *pyDict, *pyList, pyTuple:
		return true
	}
	return false
}

// tupleID is a tuple's identity, the address of its first element (a
// tuple's items never change, and a memo reference shares them), or nil
// for an empty one.
func tupleID(t pyTuple) any {
	if len(t) == 0 {
		return nil
	}
	return &t[0]
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
// but optimizer state and one-value tensors (metrics) is under one, the
// names under it drop it, so that they are the state_dict's keys; the
// others keep their whole path ("optimizer_states.0.state.3.exp_avg").
var wrappers = []string{"state_dict", "model_state_dict"}

func unwrap(ts []named) (string, []named) {
	for _, w := range wrappers {
		if out, ok := unwrapUnder(ts, w+"."); ok {
			return w, out
		}
	}
	return "", ts
}

// unwrapUnder drops prefix p from the model's tensors, if all of them have
// it and no name then meets an optimizer tensor's.
func unwrapUnder(ts []named, p string) ([]named, bool) {
	out := make([]named, len(ts))
	names := map[string]bool{}
	model := 0
	for i, t := range ts {
		out[i] = t
		rest, ok := strings.CutPrefix(t.path, p)
		if !ok && (t.opt || oneValue(t.t)) {
			continue // beside the model: its optimizer, a metric (Lightning's best_model_score)
		}
		if !ok || rest == "" {
			return nil, false
		}
		out[i].path = rest
		model++
	}
	for _, t := range out {
		if names[t.path] {
			return nil, false
		}
		names[t.path] = true
	}
	return out, model > 0
}

// oneValue reports a tensor of one element or none: a step or a metric.
func oneValue(t *tensor) bool {
	n := int64(1)
	for _, d := range t.shape {
		n *= d
		if n > 1 {
			return false
		}
	}
	return true
}

// holds reports a dict or list: an optimizer key holds one, where a
// state_dict's key naming a parameter ("optim_gate.weight") holds a tensor.
func holds(v any) bool {
	switch v.(type) {
	case *pyDict, *pyList:
		return true
	}
	return false
}

// optimizerKey reports a dict key naming an optimizer's state: "optimizer",
// "optimizer_states" (Lightning), "optimizer_state_dict", "optim".
func optimizerKey(k any) bool {
	s, ok := k.(string)
	return ok && strings.Contains(strings.ToLower(s), "optim")
}

// isOptimizerStateDict reports the shape of Optimizer.state_dict(): a dict
// holding "state" (a dict by parameter index) and "param_groups" (a list).
func isOptimizerStateDict(keys, vals []any) bool {
	var state, groups bool
	for i, k := range keys {
		switch k {
		case "state":
			_, state = vals[i].(*pyDict)
		case "param_groups":
			_, groups = vals[i].(*pyList)
		}
	}
	return state && groups
}

// paramStateNames are the per-parameter state of torch.optim's optimizers
// (Adam's exp_avg, SGD's momentum_buffer, Adagrad's sum, ...): the keys of
// Optimizer.state_dict()["state"][i]. Their tensors are shaped like the
// parameters, tables' too, wherever a script saved them.
var paramStateNames = map[string]bool{
	"step": true, "exp_avg": true, "exp_avg_sq": true, "max_exp_avg_sq": true, "exp_inf": true,
	"momentum_buffer": true, "sum": true, "square_avg": true, "acc_delta": true, "grad_avg": true,
	"ax": true, "eta": true, "mu": true, "mu_product": true, "prev": true, "step_size": true,
}

// distinctStateNames are those no model names a parameter or a buffer
// with: alone they make a dict an optimizer's state, where "sum" or "mu"
// alone could be anything.
var distinctStateNames = map[string]bool{
	"exp_avg": true, "exp_avg_sq": true, "max_exp_avg_sq": true, "exp_inf": true, "momentum_buffer": true,
	"square_avg": true, "acc_delta": true, "grad_avg": true, "mu_product": true, "step_size": true,
}

// isParamState reports a dict of one parameter's optimizer state: every
// key a state name, and two of them or one no model would use.
func isParamState(keys []any) bool {
	distinct := false
	for _, k := range keys {
		s, ok := k.(string)
		if !ok || !paramStateNames[s] {
			return false
		}
		distinct = distinct || distinctStateNames[s]
	}
	return len(keys) >= 2 || distinct
}
