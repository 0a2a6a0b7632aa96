package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden JSON schemas in testdata/json")

// schema is the shape of a JSON value: objects by their keys, arrays by
// their first element, everything else by its type. Values do not count:
// two runs on the same inputs must give the same schema.
func schema(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = schema(x)
		}
		return out
	case []any:
		if len(v) == 0 {
			return []any{}
		}
		return []any{schema(v[0])}
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

// The --json output of every command keeps its schema: a change to it is a
// change for every script that reads it, and must be made on purpose (go
// test -run Golden -update rewrites the files).
func TestGoldenJSON(t *testing.T) {
	dir, train, test, model, _ := heldOutFiles(t)
	q := filepath.Join(dir, "ncf.shark")
	ex := filepath.Join(dir, "ex")
	runs := map[string][]string{
		"inspect":               {"inspect", ncf},
		"quantize":              {"quantize", ncf, "-o", q},
		"verify":                {"verify", q},
		"export":                {"export", q, "--to", "npz", "-o", filepath.Join(dir, "x.npz")},
		"example":               {"example", "-o", ex},
		"synth":                 {"synth", "-o", filepath.Join(dir, "s.tsv"), "--rows", "100"},
		"train":                 {"train", train, "--test", test, "-o", filepath.Join(dir, "t.shark"), "--epochs", "1"},
		"eval":                  {"eval", model, train, "--test", test},
		"score":                 {"score", model, train, "--test", test, "--exact", "--repeats", "1"},
		"prune":                 {"prune", model, train, "--test", test, "--keep", "20", "-o", filepath.Join(dir, "p.shark")},
		"compress":              {"compress", model, train, "--test", test, "-o", filepath.Join(dir, "c.shark")},
		"compress max-auc-drop": {"compress", model, train, "--test", test, "-o", filepath.Join(dir, "c2.shark"), "--max-auc-drop", "0.001"},
		"experiment taylor":     {"experiment", "taylor", model, train, "--test", test, "-o", filepath.Join(dir, "e"), "--repeats", "1"},
		"experiment sweep":      {"experiment", "sweep", model, train, "--test", test, "-o", filepath.Join(dir, "w")},
		"experiment ablation":   {"experiment", "ablation", model, train, "--test", test, "-o", filepath.Join(dir, "a"), "--seeds", "1", "--repeats", "1"},
		"demo":                  {"demo", "--rows", "2000", "--keep", filepath.Join(dir, "demo")},
		"bench lookup":          {"bench", "lookup", q, "--bags", "300"},
		"version":               {"version"},
		"counts":                {"counts", model, train, test, "-o", filepath.Join(dir, "counts.npz")},
	}
	order := []string{"inspect", "quantize", "verify", "export", "example", "synth", "train", "eval", "score", "prune", "compress", "compress max-auc-drop",
		"experiment taylor", "experiment sweep", "experiment ablation", "demo", "bench lookup", "version", "counts"}
	for _, name := range order {
		code, out, e := shark(t, append(runs[name], "--json")...)
		if code != 0 {
			t.Fatalf("%s: %d %s", name, code, e)
		}
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%s --json is not one JSON object: %v\n%s", name, err, out)
		}
		got, _ := json.MarshalIndent(schema(v), "", "  ")
		file := filepath.Join("testdata", "json", strings.ReplaceAll(name, " ", "-")+".json")
		if *update {
			os.MkdirAll(filepath.Dir(file), 0o755)
			if err := os.WriteFile(file, append(got, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%s: %v (go test -run Golden -update writes it)", name, err)
		}
		if strings.TrimSpace(string(want)) != string(got) {
			t.Errorf("%s --json changed its schema:\n%s\nwant\n%s", name, got, want)
		}
	}
	// Every command that takes --json is run above, but serve, which does
	// not return.
	for _, c := range commands() {
		name := strings.Join(path(c), " ")
		if _, ok := runs[name]; !ok && c.Runnable() && !c.HasSubCommands() && name != "serve" {
			t.Errorf("%s has no golden JSON schema", name)
		}
	}
}
