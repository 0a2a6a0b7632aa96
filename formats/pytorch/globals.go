package pytorch

import (
	"strings"

	"shark/formats"
)

// storageTypes are the typed storages torch.save names in persistent ids.
var storageTypes = map[string]formats.DType{
	"torch.FloatStorage":    formats.F32,
	"torch.HalfStorage":     formats.F16,
	"torch.BFloat16Storage": formats.BF16,
	"torch.DoubleStorage":   formats.F64,
	"torch.LongStorage":     formats.I64,
	"torch.IntStorage":      formats.I32,
	"torch.ShortStorage":    formats.I16,
	"torch.CharStorage":     formats.I8,
	"torch.ByteStorage":     formats.U8,
	"torch.BoolStorage":     formats.BOOL,
}

// calls are the globals shark will "call" on REDUCE or NEWOBJ: each builds
// a plain value and runs nothing. They are what torch.load(weights_only=True)
// allows for state_dicts. (Set in init: _rebuild_from_type_v2 calls back.)
var calls map[string]func(m *machine, args pyTuple) (any, error)

func init() {
	calls = map[string]func(m *machine, args pyTuple) (any, error){
		"collections.OrderedDict":                    func(*machine, pyTuple) (any, error) { return &pyDict{ordered: true}, nil },
		"torch._utils._rebuild_tensor_v2":            (*machine).rebuildTensor,
		"torch._utils._rebuild_tensor":               (*machine).rebuildTensor,
		"torch._utils._rebuild_parameter":            (*machine).firstTensor,
		"torch._utils._rebuild_parameter_with_state": (*machine).firstTensor,
		"torch.nn.parameter.Parameter":               (*machine).firstTensor,
		"torch._tensor._rebuild_from_type_v2":        (*machine).rebuildFromType,
		"torch.Size":                                 (*machine).firstValue,
		"torch.device":                               (*machine).firstValue,
		"torch.serialization._get_layout":            (*machine).firstValue,
	}
}

// refused are allowed by torch.load(weights_only=True) but hold tensors
// shark does not read; the error says which.
var refused = map[string]string{
	"torch._utils._rebuild_sparse_tensor":            "a sparse tensor",
	"torch._utils._rebuild_sparse_csr_tensor":        "a sparse CSR tensor",
	"torch._utils._rebuild_meta_tensor_no_storage":   "a meta tensor, which holds no data",
	"torch._utils._rebuild_qtensor":                  "a quantized tensor",
	"torch._utils._rebuild_wrapper_subclass":         "a tensor subclass",
	"torch._utils._rebuild_device_tensor_from_numpy": "a tensor rebuilt from NumPy",
}

// allowedValue reports the globals that are values, not calls: dtypes,
// storage types and tensor types.
func allowedValue(full string) bool {
	if _, ok := storageTypes[full]; ok {
		return true
	}
	rest, ok := strings.CutPrefix(full, "torch.")
	if !ok {
		return false
	}
	switch rest {
	case "Tensor", "float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "bool":
		return true
	}
	return strings.HasSuffix(rest, "Storage") || strings.HasSuffix(rest, "Tensor")
}

// pushGlobal checks a global against what is allowed.
func (m *machine) pushGlobal(module, nm string) error {
	g := pyGlobal{module, nm}
	full := g.String()
	if _, ok := calls[full]; ok || refused[full] != "" || allowedValue(full) {
		m.push(g)
		return nil
	}
	// %.100q: a name is the file's to choose, and an error stays short.
	return m.errf(formats.ErrUnsupported, "global %.100q is not one torch.load(weights_only=True) allows; shark never runs what a file names", full)
}

func (m *machine) global() error {
	module, err := m.line()
	if err != nil {
		return err
	}
	nm, err := m.line()
	if err != nil {
		return err
	}
	return m.pushGlobal(module, nm)
}

func (m *machine) stackGlobal() error {
	nm, err := m.pop()
	if err != nil {
		return err
	}
	module, err := m.pop()
	if err != nil {
		return err
	}
	ms, ok1 := module.(string)
	ns, ok2 := nm.(string)
	if !ok1 || !ok2 {
		return m.errf(formats.ErrCorrupt, "STACK_GLOBAL of a %s and a %s", kind(module), kind(nm))
	}
	return m.pushGlobal(ms, ns)
}

// call applies an allowed global to args.
func (m *machine) call(fn any, args any) (any, error) {
	g, ok := fn.(pyGlobal)
	if !ok {
		return nil, m.errf(formats.ErrCorrupt, "a call of a %s", kind(fn))
	}
	t, ok := args.(pyTuple)
	if !ok {
		return nil, m.errf(formats.ErrCorrupt, "%s called with a %s, not a tuple", g, kind(args))
	}
	if what := refused[g.String()]; what != "" {
		return nil, m.errf(formats.ErrUnsupported, "%s (%s); shark reads dense tensors", what, g)
	}
	f := calls[g.String()]
	if f == nil {
		return nil, m.errf(formats.ErrUnsupported, "%s is not a function torch.load(weights_only=True) calls", g)
	}
	return f(m, t)
}

func (m *machine) reduce() error {
	args, err := m.pop()
	if err != nil {
		return err
	}
	fn, err := m.pop()
	if err != nil {
		return err
	}
	v, err := m.call(fn, args)
	if err == nil {
		m.push(v)
	}
	return err
}

// newObj is cls.__new__(cls, *args): allowed for Parameter alone.
func (m *machine) newObj() error {
	args, err := m.pop()
	if err != nil {
		return err
	}
	cls, err := m.pop()
	if err != nil {
		return err
	}
	if g, ok := cls.(pyGlobal); !ok || g.String() != "torch.nn.parameter.Parameter" {
		return m.errf(formats.ErrUnsupported, "NEWOBJ of %s: torch.load(weights_only=True) makes Parameters alone", kind(cls))
	}
	v, err := m.call(cls, args)
	if err == nil {
		m.push(v)
	}
	return err
}

// build sets an object's state: allowed on tensors and dicts (a
// state_dict's _metadata), whose state shark does not need.
func (m *machine) build() error {
	if _, err := m.pop(); err != nil {
		return err
	}
	inst, err := m.top()
	if err != nil {
		return err
	}
	switch inst.(type) {
	case *tensor, *pyDict:
		return nil
	}
	return m.errf(formats.ErrUnsupported, "BUILD of a %s: torch.load(weights_only=True) builds tensors and dicts alone", kind(inst))
}
