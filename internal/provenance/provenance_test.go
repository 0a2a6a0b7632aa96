package provenance

import "testing"

// A record carries the version, the step, the inputs' names and the time
// SOURCE_DATE_EPOCH gives, unless the origin sets its own.
func TestRecord(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	p := Record(Origin{Step: "compress", Input: "m.shark", Data: "d.tsv"})
	want := map[string]string{"tool": "shark " + Version, "step": "compress", "input": "m.shark", "data": "d.tsv", "created": "2023-11-14T22:13:20Z"}
	if len(p) != len(want) {
		t.Fatalf("record %v, want %v", p, want)
	}
	for k, v := range want {
		if p[k] != v {
			t.Fatalf("record %v, want %v", p, want)
		}
	}
	if c := Record(Origin{Step: "train", Created: 86400})["created"]; c != "1970-01-02T00:00:00Z" {
		t.Fatalf("created %s with Created set", c)
	}
	if _, ok := Record(Origin{Step: "train"})["input"]; ok {
		t.Fatal("an empty input is recorded")
	}
}
