package fuzzcap

import "testing"

var sink []byte

func TestRunCatchesAHugeAllocation(t *testing.T) {
	ft := &testing.T{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ft, 10, func() { sink = make([]byte, 8<<20) })
	}()
	<-done
	if !ft.Failed() {
		t.Fatal("8 MiB for a 10-byte input passed")
	}
	Run(t, 1<<20, func() { sink = make([]byte, 8<<20) }) // within 64x
}
