package api

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/routes"
)

// TestOpenAPILint holds the served document to what clients' tools
// expect: @redocly/cli's recommended rules and Spectral's spectral:oas
// ruleset find no error, and oapi-codegen generates a Go client from it
// that compiles. The linters are npm packages installed into .tools by
// `make tools` (infra/tools.sh; `make test` runs it first); without them
// the test is skipped. oapi-codegen and the client's runtime are pinned
// in testdata/openapiclient, a module of its own.
func TestOpenAPILint(t *testing.T) {
	root := repoRoot(t)
	bin := filepath.Join(root, ".tools", "node_modules", ".bin")
	redocly, spectral := filepath.Join(bin, "redocly"), filepath.Join(bin, "spectral")
	for _, p := range []string{redocly, spectral} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s is not installed: run `make tools` (infra/tools.sh) to lint the OpenAPI document", p)
		}
	}
	doc, err := BuildOpenAPI(routes.Deployed())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("openapi.json", doc)
	write("spectral.yaml", []byte(`extends: ["spectral:oas"]`+"\n"))

	t.Run("redocly", func(t *testing.T) {
		t.Parallel()
		run(t, dir, redocly, "lint", "--extends=recommended", "--format=stylish", "openapi.json")
	})
	t.Run("spectral", func(t *testing.T) {
		t.Parallel()
		run(t, dir, spectral, "lint", "--ruleset", "spectral.yaml", "--fail-severity", "error", "openapi.json")
	})
	t.Run("oapi-codegen", func(t *testing.T) {
		t.Parallel()
		mod := t.TempDir()
		for _, f := range []string{"go.mod", "go.sum", "doc.go"} {
			b, err := os.ReadFile(filepath.Join("testdata", "openapiclient", f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(mod, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		run(t, mod, "go", "tool", "oapi-codegen", "-generate", "types,client", "-package", "openapiclient",
			"-o", "client.gen.go", filepath.Join(dir, "openapi.json"))
		run(t, mod, "go", "build", "./...")
	})
}

// run runs a command in dir and fails the test with its output if it fails.
func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_UPDATE_NOTIFIER=1", "GOFLAGS=-mod=mod -buildvcs=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

// repoRoot is the directory of the service's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/batchplane/batchplane\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod of github.com/batchplane/batchplane above the test")
		}
		dir = parent
	}
}
