package report

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// testdata/quick-report.json is a real run of the quick suite (paths moved
// under /out) and quick-report.md the section the writer of that time
// rendered from it: a saved report must keep rendering the same section.
func TestMarkdownOfASavedReport(t *testing.T) {
	rep, err := ReadJSON("testdata/quick-report.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/quick-report.md")
	if err != nil {
		t.Fatal(err)
	}
	got := Markdown(rep, "/out")
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < min(len(gl), len(wl)); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%d lines, want %d", len(gl), len(wl))
	}
}

// The schema is unchanged: a saved report reads into Report and writes back
// byte for byte (every field kept, none added where it was absent).
func TestJSONRoundTripKeepsEveryByte(t *testing.T) {
	raw, err := os.ReadFile("testdata/quick-report.json")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ReadJSON("testdata/quick-report.json")
	if err != nil {
		t.Fatal(err)
	}
	back, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(back, '\n'), raw) {
		t.Fatal("a saved report does not write back as it was read")
	}
}

// Derive recomputes what the saved run derived.
func TestDeriveOfASavedReport(t *testing.T) {
	rep, err := ReadJSON("testdata/quick-report.json")
	if err != nil {
		t.Fatal(err)
	}
	saved, _ := json.Marshal([]any{rep.Fits, rep.Routes, rep.Comparisons, rep.Failures})
	Derive(rep)
	again, _ := json.Marshal([]any{rep.Fits, rep.Routes, rep.Comparisons, rep.Failures})
	if !bytes.Equal(saved, again) {
		t.Fatalf("derived tables differ:\nsaved %s\nnow   %s", saved, again)
	}
}
