package local

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
)

// A job's log is a file of lines "<RFC 3339 time> <message>", one per line
// of the job's stdout and stderr (one pipe, so they interleave as written),
// timestamped when read. A page token is the byte offset of the next line.

// maxLine splits longer output lines into several log lines, as
// CloudWatch Logs splits events beyond 256 KiB.
const maxLine = 16 << 10

// logWait bounds how long the log is read after the job's process group
// was killed: a process that left the group (setsid) may hold the pipe.
const logWait = 2 * time.Second

var logIDPattern = regexp.MustCompile(`^lb-[0-9a-f]{20}$`)

func (b *Batch) logPath(logID string) string {
	return filepath.Join(b.o.Dir, "logs", logID+".log")
}

// logWriter copies a job's output into its log file.
type logWriter struct {
	w    *os.File // the child's stdout and stderr
	r    *os.File
	f    *os.File
	done chan struct{}
}

func newLogWriter(path string, limit int64) (*logWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		f.Close()
		return nil, err
	}
	lw := &logWriter{w: w, r: r, f: f, done: make(chan struct{})}
	go lw.copy(limit)
	return lw, nil
}

// copy reads lines until the pipe closes, writing at most limit bytes and
// then one line saying the log was truncated (the rest is read and
// dropped, so the job never blocks on a full pipe).
func (lw *logWriter) copy(limit int64) {
	defer close(lw.done)
	defer lw.f.Close()
	br := bufio.NewReaderSize(lw.r, maxLine)
	out := bufio.NewWriter(lw.f)
	defer out.Flush()
	var written int64
	truncated := false
	for {
		line, isPrefix, err := br.ReadLine()
		if len(line) > 0 || (err == nil && !isPrefix) {
			rec := time.Now().UTC().Format(time.RFC3339Nano) + " " + string(line) + "\n"
			switch {
			case truncated:
			case written+int64(len(rec)) > limit:
				truncated = true
				fmt.Fprintf(out, "%s [batchplane: log truncated at %d bytes]\n", time.Now().UTC().Format(time.RFC3339Nano), limit)
			default:
				written += int64(len(rec))
				out.WriteString(rec)
				if br.Buffered() == 0 {
					out.Flush()
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// started closes the parent's copy of the pipe's write end once the child
// holds its own, so the reader sees EOF when the job's processes end.
func (lw *logWriter) started() { lw.w.Close() }

// abort ends a log whose process never started.
func (lw *logWriter) abort() {
	lw.w.Close()
	<-lw.done
	lw.r.Close()
}

// wait waits for the log to be read to its end, for at most logWait.
func (lw *logWriter) wait() {
	select {
	case <-lw.done:
	case <-time.After(logWait):
		lw.r.Close()
		<-lw.done
	}
	lw.r.Close()
}

// Logs implements cloud.Batch: up to limit lines (0 = 100, at most 10,000)
// from the offset token, oldest first; next is "" at the log's end. A log
// outlives the executor's records, so it can be read after a restart.
func (b *Batch) Logs(ctx context.Context, t cloud.Target, logID, token string, limit int) ([]cloud.LogLine, string, error) {
	if !logIDPattern.MatchString(logID) {
		return nil, "", fmt.Errorf("local batch: log %q: %w", logID, os.ErrNotExist)
	}
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10000)
	var off int64
	if token != "" {
		n, err := strconv.ParseInt(token, 10, 64)
		if err != nil || n < 0 {
			return nil, "", fmt.Errorf("local batch: bad log token %q", token)
		}
		off = n
	}
	f, err := os.Open(b.logPath(logID))
	if err != nil {
		return nil, "", fmt.Errorf("local batch: log %s: %w", logID, err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, "", err
	}
	return readLines(bufio.NewReader(f), off, limit)
}

// readLines reads up to limit complete lines from off.
func readLines(br *bufio.Reader, off int64, limit int) ([]cloud.LogLine, string, error) {
	lines := []cloud.LogLine{}
	for len(lines) < limit {
		raw, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) { // end, or a line being written: read it next time
			return lines, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		off += int64(len(raw))
		ts, msg, _ := bytes.Cut(bytes.TrimSuffix(raw, []byte("\n")), []byte(" "))
		at, _ := time.Parse(time.RFC3339Nano, string(ts))
		lines = append(lines, cloud.LogLine{Time: at, Message: string(msg)})
	}
	if _, err := br.Peek(1); err != nil {
		return lines, "", nil
	}
	return lines, strconv.FormatInt(off, 10), nil
}
