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

// A job's log is a run of records "<job id> <RFC 3339 time> <message>\n" in
// its slot's segment file under Dir/logs, one per line of the job's stdout
// and stderr (one pipe, so they interleave as written), timestamped when
// read. Its log id names the job, the segment and the run's first byte
// (known when the job starts, as AWS Batch's log stream is); the run ends
// at the first record of another job. A page token is the byte offset of
// the next record. Segments outlive the executor, so logs are read after a
// restart.

// maxLine splits longer output lines into several log lines, as
// CloudWatch Logs splits events beyond 256 KiB.
const maxLine = 16 << 10

// logWait bounds how long the log is read after the job's process group
// was killed: a process that left the group (setsid) may hold the pipe.
const logWait = 2 * time.Second

var logIDPattern = regexp.MustCompile(`^(lb-[0-9a-f]{20})\.(seg-[0-9a-f]+-[0-9]+)\.([0-9]+)$`)

// logWriter copies a job's output to its slot's segment.
type logWriter struct {
	logID string
	w     *os.File // the child's stdout and stderr
	r     *os.File
	sl    *slot
	done  chan struct{}
}

func newLogWriter(sl *slot, jobID string, limit int64) (*logWriter, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	lw := &logWriter{logID: jobID + "." + sl.name + "." + strconv.FormatInt(sl.size, 10), w: w, r: r, sl: sl, done: make(chan struct{})}
	go lw.copy(jobID, limit)
	return lw, nil
}

// copy reads lines until the pipe closes, writing at most limit bytes and
// then one record saying the log was truncated (the rest is read and
// dropped, so the job never blocks on a full pipe).
func (lw *logWriter) copy(jobID string, limit int64) {
	defer close(lw.done)
	br := bufio.NewReaderSize(lw.r, maxLine)
	out := bufio.NewWriter(lw.sl.seg)
	defer out.Flush()
	var written int64
	truncated := false
	for {
		line, isPrefix, err := br.ReadLine()
		if len(line) > 0 || (err == nil && !isPrefix) {
			now := time.Now().UTC().Format(time.RFC3339Nano)
			rec := jobID + " " + now + " " + string(line) + "\n"
			switch {
			case truncated:
			case written+int64(len(rec)) > limit:
				truncated = true
				rec = fmt.Sprintf("%s %s [batchplane: log truncated at %d bytes]\n", jobID, now, limit)
				out.WriteString(rec)
				lw.sl.size += int64(len(rec))
			default:
				written += int64(len(rec))
				out.WriteString(rec)
				lw.sl.size += int64(len(rec))
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
// from the offset token, oldest first; next is "" at the log's end (for a
// running job: its end so far).
func (b *Batch) Logs(ctx context.Context, t cloud.Target, logID, token string, limit int) ([]cloud.LogLine, string, error) {
	m := logIDPattern.FindStringSubmatch(logID)
	if m == nil {
		return nil, "", fmt.Errorf("local batch: log %q: %w", logID, os.ErrNotExist)
	}
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10000)
	off, _ := strconv.ParseInt(m[3], 10, 64)
	if token != "" {
		n, err := strconv.ParseInt(token, 10, 64)
		if err != nil || n < off {
			return nil, "", fmt.Errorf("local batch: log %s from %.64q: %w", logID, token, cloud.ErrBadLogToken)
		}
		off = n
	}
	f, err := os.Open(filepath.Join(b.o.Dir, "logs", m[2]))
	if err != nil {
		return nil, "", fmt.Errorf("local batch: log %s: %w", logID, err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, "", err
	}
	return readLines(bufio.NewReader(f), []byte(m[1]+" "), off, limit)
}

// readLines reads up to limit of the job's records from off; the next
// token is set only when another of its records follows.
func readLines(br *bufio.Reader, tag []byte, off int64, limit int) ([]cloud.LogLine, string, error) {
	lines := []cloud.LogLine{}
	for {
		raw, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) || !bytes.HasPrefix(raw, tag) { // the end, or a record being written
			return lines, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		if len(lines) == limit {
			return lines, strconv.FormatInt(off, 10), nil
		}
		off += int64(len(raw))
		ts, msg, _ := bytes.Cut(bytes.TrimSuffix(raw[len(tag):], []byte("\n")), []byte(" "))
		at, _ := time.Parse(time.RFC3339Nano, string(ts))
		lines = append(lines, cloud.LogLine{Time: at, Message: string(msg)})
	}
}

// RunsOnHost implements cloud.OnHost: the local executor's jobs are this
// machine's processes.
func (b *Batch) RunsOnHost() bool { return true }
