// Package dynamolocal fetches and runs DynamoDB Local, the official AWS
// emulator, for `make run` and the tests. It ships inside the npm package
// amplify-dynamodb-simulator; we `npm pack` it once into a cache folder and
// run its jar with the machine's Java.
package dynamolocal

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Package is the npm package (pinned) that carries DynamoDB Local.
const Package = "amplify-dynamodb-simulator@2.9.30"

// Ensure makes sure DynamoDB Local is unpacked under cacheDir and returns
// the folder holding DynamoDBLocal.jar.
func Ensure(ctx context.Context, cacheDir string) (string, error) {
	dir := filepath.Join(cacheDir, "dynamodb-local")
	jar := filepath.Join(dir, "DynamoDBLocal.jar")
	if _, err := os.Stat(jar); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cacheDir, "pack-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "npm", "pack", "--silent", Package)
	cmd.Dir = tmp
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("npm pack %s: %w", Package, err)
	}
	tgz := filepath.Join(tmp, strings.TrimSpace(lastLine(string(out))))
	staging := dir + ".tmp"
	os.RemoveAll(staging)
	if err := untar(tgz, "package/emulator/", staging); err != nil {
		return "", fmt.Errorf("unpack %s: %w", tgz, err)
	}
	if err := os.Rename(staging, dir); err != nil {
		return "", err
	}
	return dir, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func untar(tgz, prefix, dest string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !strings.HasPrefix(h.Name, prefix) || h.Typeflag != tar.TypeReg {
			continue
		}
		rel := strings.TrimPrefix(h.Name, prefix)
		if strings.Contains(rel, "..") {
			continue
		}
		p := filepath.Join(dest, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		w, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, tr); err != nil {
			w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
}

// Options configure a DynamoDB Local process.
type Options struct {
	// Port to listen on; 0 picks a free one.
	Port int
	// DBPath keeps data in this folder between runs; "" runs in memory.
	DBPath string
	// Log receives the process's output; nil discards it.
	Log io.Writer
}

// Process is a running DynamoDB Local.
type Process struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan error
}

// FreePort returns a TCP port that is free on 127.0.0.1 right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs DynamoDB Local from dir (see Ensure) and waits until it accepts
// connections.
func Start(ctx context.Context, dir string, o Options) (*Process, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return nil, errors.New("dynamolocal: java not found; install a Java 17 runtime (Debian: openjdk-17-jre-headless)")
	}
	port := o.Port
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	args := []string{"-Xmx512m", "-Djava.library.path=DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar", "-port", strconv.Itoa(port), "-disableTelemetry"}
	if o.DBPath != "" {
		abs, err := filepath.Abs(o.DBPath)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, err
		}
		args = append(args, "-sharedDb", "-dbPath", abs)
	} else {
		args = append(args, "-inMemory", "-sharedDb")
	}
	cmd := exec.Command("java", args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if o.Log != nil {
		cmd.Stdout, cmd.Stderr = o.Log, o.Log
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	p := &Process{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case err := <-p.done:
			return nil, fmt.Errorf("DynamoDB Local exited at start: %v", err)
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, errors.New("DynamoDB Local did not start within 60s")
		}
	}
}

// Stop terminates the process (SIGTERM, then SIGKILL after 5 s) and waits.
func (p *Process) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}
