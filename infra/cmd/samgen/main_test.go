package main

import (
	"bytes"
	"os"
	"testing"
)

// TestTemplateUpToDate fails when the committed template.yaml is not what
// samgen writes from the current route table.
func TestTemplateUpToDate(t *testing.T) {
	got, err := os.ReadFile("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := generate(); !bytes.Equal(got, want) {
		t.Errorf("template.yaml is stale: run `cd infra && go run ./cmd/samgen > ../template.yaml`")
	}
}
