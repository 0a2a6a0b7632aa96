package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// labeler turns a row's label text into a click. With a threshold (--label
// '>=4', or 'rating>=4' for a CSV column) a label is whether its value
// meets it; without, a label is 0 or 1, and in the libSVM family (libSVM,
// libFM, libFFM) also -1 or +1, those formats' own binary convention. A
// file uses one convention: 0 and -1 in one file are refused, since then
// the labels are three classes, not clicks.
type labeler struct {
	op     string // "" for none
	thr    float64
	signed bool   // -1 is a negative label (the libSVM family)
	neg    string // the negative label seen first: "0" or "-1"
	negAt  int64  // its line
}

// thresholdOps are the comparisons --label takes, longest first.
var thresholdOps = []string{">=", "<=", "==", ">", "<"}

// parseThreshold splits a --label value into a column name (maybe "") and
// a threshold (op "" when there is none).
func parseThreshold(label string) (name, op string, thr float64, err error) {
	for _, o := range thresholdOps {
		i := strings.Index(label, o)
		if i < 0 {
			continue
		}
		thr, err = strconv.ParseFloat(strings.TrimSpace(label[i+len(o):]), 64)
		if err != nil || math.IsNaN(thr) {
			return "", "", 0, fmt.Errorf("%w: --label %q: threshold is not a number", ErrFormat, label)
		}
		return strings.TrimSpace(label[:i]), o, thr, nil
	}
	return strings.TrimSpace(label), "", 0, nil
}

// SameLabel reports whether two --label values read the same labels from
// the same column: 'rating >= 4' is 'rating>=4'.
func SameLabel(a, b string) bool {
	na, oa, ta, ea := parseThreshold(a)
	nb, ob, tb, eb := parseThreshold(b)
	if ea != nil || eb != nil {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	return na == nb && oa == ob && ta == tb
}

// newLabeler is the label reading of a format without named columns:
// --label, if given, is a threshold alone.
func newLabeler(format, label string, signed bool) (*labeler, error) {
	lb := &labeler{signed: signed}
	if label == "" {
		return lb, nil
	}
	name, op, thr, err := parseThreshold(label)
	if err != nil {
		return nil, err
	}
	if name != "" || op == "" {
		return nil, fmt.Errorf("%w: --label %q: %s rows have no named columns; give a threshold alone, e.g. --label '>0' or --label '>=4'", ErrFormat, label, format)
	}
	lb.op, lb.thr = op, thr
	return lb, nil
}

// of reads the label text s of line.
func (lb *labeler) of(s string, line int64) (float32, error) {
	s = strings.TrimSpace(s)
	x, err := strconv.ParseFloat(s, 64)
	if lb.op != "" {
		if err != nil || math.IsNaN(x) {
			return 0, bad(line, "label %q is not a number", s)
		}
		return lb.meets(x), nil
	}
	switch {
	case err == nil && x == 1:
		return 1, nil
	case err == nil && x == 0:
		return 0, lb.negative("0", line)
	case err == nil && x == -1 && lb.signed:
		return 0, lb.negative("-1", line)
	case lb.signed:
		return 0, bad(line, "label %q is not 0/1 or -1/+1 (for other labels, --label takes a threshold, e.g. --label '>0' or --label '>=4')", s)
	}
	return 0, bad(line, "label %q is not 0 or 1 (for other labels, --label takes a threshold, e.g. --label '>=4')", s)
}

// negative checks that a file keeps to one negative label.
func (lb *labeler) negative(neg string, line int64) error {
	if lb.neg == "" {
		lb.neg, lb.negAt = neg, line
		return nil
	}
	if lb.neg != neg {
		return bad(line, "label %s, but line %d has label %s: a file's labels are 0/1 or -1/+1, not both (for other labels, --label takes a threshold, e.g. --label '>0')", neg, lb.negAt, lb.neg)
	}
	return nil
}

// meets is 1 if x meets the threshold, else 0.
func (lb *labeler) meets(x float64) float32 {
	var yes bool
	switch lb.op {
	case ">=":
		yes = x >= lb.thr
	case "<=":
		yes = x <= lb.thr
	case "==":
		yes = x == lb.thr
	case ">":
		yes = x > lb.thr
	case "<":
		yes = x < lb.thr
	}
	if yes {
		return 1
	}
	return 0
}
