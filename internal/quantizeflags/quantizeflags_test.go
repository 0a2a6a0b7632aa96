package quantizeflags

import (
	"errors"
	"flag"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"shark/compress"
)

// settingsOf parses args with both flag packages and fails unless they
// give the same settings (or the same error).
func settingsOf(t *testing.T, args ...string) error {
	t.Helper()
	fp, fs := New(), New()
	p := pflag.NewFlagSet("p", pflag.ContinueOnError)
	fp.Define(p)
	s := flag.NewFlagSet("s", flag.ContinueOnError)
	fs.Define(s)
	if err := p.Parse(args); err != nil {
		t.Fatalf("pflag %v: %v", args, err)
	}
	if err := s.Parse(args); err != nil {
		t.Fatalf("flag %v: %v", args, err)
	}
	a, errA := fp.Settings()
	b, errB := fs.Settings()
	if !reflect.DeepEqual(a, b) || (errA == nil) != (errB == nil) {
		t.Fatalf("%v: pflag %+v (%v), flag %+v (%v)", args, a, errA, b, errB)
	}
	return errA
}

// Both flag packages read quantize's flags into the same settings, and
// refuse the same mistakes: two ways of choosing tiers, fractions that do
// not sum to 1, a gamma out of (0, 1].
func TestBothFlagPackagesAgree(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"--budget", "1.5MB", "--no-int4", "--tables", "^emb", "--min-rows", "10"},
		{"--fp16", "0.5", "--int8", "0.5", "--w-pos", "3", "--w-neg", "0.5", "--gamma", "0.9"},
		{"--thresholds", "4,1,0.2"},
	} {
		if err := settingsOf(t, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	if err := settingsOf(t, "--budget", "30%", "--fp16", "1"); !errors.Is(err, ErrModes) {
		t.Fatalf("a budget and fractions: %v", err)
	}
	for _, bad := range [][]string{{"--fp16", "0.5"}, {"--gamma", "1.5"}} {
		if err := settingsOf(t, bad...); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}

// --block sets the rows per block of the block tiers: given with none of
// them allowed it would be silently unused, and is refused in both flag
// packages; with one allowed it is taken.
func TestBlockNeedsABlockTier(t *testing.T) {
	for _, args := range [][]string{
		{"--block", "16"},
		{"--block", "16", "--no-int4"},
		{"--block", "16", "--tiers", "fp32,fp16,int8,int4,int2"},
	} {
		if err := settingsOf(t, args...); !errors.Is(err, compress.ErrTiers) || !strings.Contains(err.Error(), "--block 16") {
			t.Fatalf("%v: %v", args, err)
		}
	}
	for _, args := range [][]string{{"--block", "16", "--tiers", "all"}, {"--block", "16", "--tiers", "fp32,int2-block"}, {"--block", "0"}} {
		if err := settingsOf(t, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
}
