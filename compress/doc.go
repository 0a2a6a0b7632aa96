// Package compress is the application layer every face of shark calls: the
// CLI, the WebAssembly page and the desktop app are flags and widgets over
// it, so that they show the same summaries and write byte-identical files
// for the same input and settings.
//
// It opens and summarises model files (Open, Summarize), turns any tensor
// into a table's rows (Rows), takes the face's settings in one JSON-tagged
// struct (Settings), measures and assigns tiers (NewPlan, Plan.Reassign),
// writes the .shark container with one provenance and method record
// (Plan.Write, with internal/provenance), prunes, quantizes and saves a
// CTR model (CompressModel), exports it for NumPy and serving stacks
// (Export), verifies files (Verify), and formats sizes the same way for
// every face (Size).
package compress
