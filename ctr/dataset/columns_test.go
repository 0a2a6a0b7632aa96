package dataset

import (
	"errors"
	"strings"
	"testing"
)

// A CSV header naming a column twice is refused when the header is read,
// naming the column and the line: "label,a,a,label" trained a whole model
// and failed only when it was written (a table named twice).
func TestDuplicateColumnsRefused(t *testing.T) {
	for _, head := range []string{"label,a,a,label", "label,a,b,a", "label,x,label"} {
		_, err := Open(strings.NewReader(head+"\n1,p,q,r\n"), Options{Format: "csv", Label: "label"})
		var re *RowError
		if !errors.As(err, &re) || re.Line != 1 || !strings.Contains(err.Error(), "twice") {
			t.Errorf("%q: %v", head, err)
		}
	}
	if _, err := Open(strings.NewReader("label,a,b\n1,p,q\n"), Options{Format: "csv", Label: "label"}); err != nil {
		t.Fatal(err)
	}
}
