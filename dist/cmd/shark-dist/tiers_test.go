package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
)

// shark-dist takes shark quantize's --tiers and --block flags but refuses
// the tiers after int4 and a block size, which its parts cannot store yet,
// with the reason; the default tiers and the paper's go on.
func TestQuantizeRefusesTheLaterTiers(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none-*.npy")
	for _, c := range []struct {
		args    []string
		refused bool
	}{
		{[]string{"--tiers", "all"}, true},
		{[]string{"--tiers", "fp32,fp16,int8,int4,int2"}, true},
		{[]string{"--tiers", "fp16,int4-block"}, true},
		{[]string{"--block", "16"}, true},
		{[]string{"--tiers", "fp32,fp16,int8"}, false},
		{nil, false},
	} {
		err := quantizeCmd(context.Background(), append([]string{missing, "-o", filepath.Join(dir, "out")}, c.args...), io.Discard)
		var u usageErr
		refused := asUsage(err, &u) && errors.Is(u.error, errLaterTiers)
		if refused != c.refused {
			t.Fatalf("%v: %v", c.args, err)
		}
	}
}
