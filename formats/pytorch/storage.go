package pytorch

import (
	"shark/formats"
)

// persistentLoad resolves BINPERSID's ('storage', type, key, location,
// numel): the storage is the zip record data/<key>, read later.
func (m *machine) persistentLoad() error {
	v, err := m.pop()
	if err != nil {
		return err
	}
	pid, ok := v.(pyTuple)
	if !ok || len(pid) != 5 || pid[0] != "storage" {
		return m.errf(formats.ErrUnsupported, "a persistent id that is not ('storage', type, key, location, numel)")
	}
	typ, ok1 := pid[1].(pyGlobal)
	key, ok2 := pid[2].(string)
	numel, ok3 := pid[4].(int64)
	if !ok1 || !ok2 || !ok3 || numel < 0 {
		return m.errf(formats.ErrCorrupt, "a storage's persistent id of the wrong types")
	}
	d, ok := storageTypes[typ.String()]
	if !ok {
		return m.errf(formats.ErrUnsupported, "storage type %s (shark reads float, half, bfloat16, double, long, int, short, char, byte and bool storages)", typ)
	}
	st := m.storages[key]
	if st == nil {
		st = &storage{typ: typ.String(), dtype: d, key: key, numel: numel}
		m.storages[key] = st
	} else if st.dtype != d || st.numel != numel {
		return m.errf(formats.ErrCorrupt, "storage %q appears as %s of %d and %s of %d", key, st.typ, st.numel, typ, numel)
	}
	m.push(st)
	return nil
}

// rebuildTensor is _rebuild_tensor_v2(storage, storage_offset, size,
// stride, requires_grad, backward_hooks[, metadata]), and _rebuild_tensor
// with the first four.
func (m *machine) rebuildTensor(args pyTuple) (any, error) {
	if len(args) < 4 {
		return nil, m.errf(formats.ErrCorrupt, "_rebuild_tensor with %d arguments", len(args))
	}
	st, ok := args[0].(*storage)
	off, ok2 := args[1].(int64)
	if !ok || !ok2 || off < 0 {
		return nil, m.errf(formats.ErrCorrupt, "_rebuild_tensor of a %s at offset %s", kind(args[0]), show(args[1]))
	}
	shape, err := m.ints(args[2], "size")
	if err != nil {
		return nil, err
	}
	stride, err := m.ints(args[3], "stride")
	if err != nil {
		return nil, err
	}
	if len(stride) != len(shape) {
		return nil, m.errf(formats.ErrCorrupt, "a tensor of size %v with strides %v", shape, stride)
	}
	return &tensor{st: st, offset: off, shape: shape, stride: stride}, nil
}

// ints reads a size or stride tuple of non-negative integers.
func (m *machine) ints(v any, what string) ([]int64, error) {
	t, ok := v.(pyTuple)
	if !ok {
		return nil, m.errf(formats.ErrCorrupt, "a tensor %s that is a %s, not a tuple", what, kind(v))
	}
	out := make([]int64, len(t))
	for i, e := range t {
		n, ok := e.(int64)
		if !ok || n < 0 {
			return nil, m.errf(formats.ErrCorrupt, "a tensor %s holding %s", what, show(e))
		}
		out[i] = n
	}
	return out, nil
}

// firstTensor is a Parameter: its data, the first argument.
func (m *machine) firstTensor(args pyTuple) (any, error) {
	if len(args) == 0 {
		return nil, m.errf(formats.ErrCorrupt, "a Parameter of nothing")
	}
	if _, ok := args[0].(*tensor); !ok {
		return nil, m.errf(formats.ErrCorrupt, "a Parameter of a %s", kind(args[0]))
	}
	return args[0], nil
}

// firstValue is torch.Size(t), torch.device("cpu") and the layout: the
// argument stands for the value.
func (m *machine) firstValue(args pyTuple) (any, error) {
	if len(args) == 0 {
		return pyTuple{}, nil
	}
	return args[0], nil
}

// rebuildFromType is _rebuild_from_type_v2(func, type, args, state): a
// tensor of a plain type, rebuilt by an allowed func.
func (m *machine) rebuildFromType(args pyTuple) (any, error) {
	if len(args) < 3 {
		return nil, m.errf(formats.ErrCorrupt, "_rebuild_from_type_v2 with %d arguments", len(args))
	}
	if g, ok := args[1].(pyGlobal); !ok || (g.String() != "torch.Tensor" && g.String() != "torch.nn.parameter.Parameter") {
		return nil, m.errf(formats.ErrUnsupported, "a tensor of type %s (shark reads torch.Tensor and Parameter)", kind(args[1]))
	}
	return m.call(args[0], args[2])
}
