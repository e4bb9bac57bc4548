package schedules

import (
	"go/build"
	"strings"
	"testing"
)

// The package is linked into Lambdas and is a domain package: standard
// library and shared/errs only, and nothing of HTTP.
func TestImportsStdlibOnly(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		std := !strings.Contains(first, ".")
		if imp == "github.com/batchplane/batchplane/shared/errs" || std && !strings.HasPrefix(imp, "net") {
			continue
		}
		t.Errorf("schedules imports %s: only the standard library (no net/...) and shared/errs", imp)
	}
}
