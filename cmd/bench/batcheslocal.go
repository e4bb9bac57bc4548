package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
	localcloud "github.com/batchplane/batchplane/shared/cloud/local"
)

// benchJobs is how many trivial jobs each side runs.
const benchJobs = 1000

// benchCommand is the trivial job: its output is its one argument.
var benchCommand = []string{"sh", "-c", `echo "$1"`, "sh"}

// batchesLocal runs the same 1,000 trivial jobs through the local batch
// executor and through xargs -P$(nproc), alternating, best of three rounds
// each, interleaved (the machine is shared). The goal, at most 1.5× xargs: per job the
// executor does what xargs does (fork and exec) plus the prlimit exec of
// the memory limit, a log pipe and file, a temporary directory and five
// reported states, so on a job that does nothing those fixed costs are
// the whole difference; 1.5× bounds them at half a process start per job,
// invisible beside any real tool's run time.
func batchesLocal() {
	n := runtime.NumCPU()
	fmt.Printf("== Local batch executor vs xargs -P%d: %d trivial jobs (%s), best of 3 rounds each\n", n, benchJobs, strings.Join(benchCommand, " ")+" {i}")
	best := func(d *time.Duration, v time.Duration) {
		if *d == 0 || v < *d {
			*d = v
		}
	}
	var xa, ex, exNoLimit time.Duration
	limiter := localcloud.LimitAuto
	for range 3 {
		best(&xa, must(runXargs(n)))
		d, lim := must2(runExecutor(64))
		best(&ex, d)
		limiter = lim
		best(&exNoLimit, must(runExecutorNoLimit()))
	}
	perJob := func(d time.Duration) float64 { return ms(d) / benchJobs }
	fmt.Printf("%-30s %7.0f ms  (%.2f ms/job)\n", fmt.Sprintf("xargs -P%d", n), ms(xa), perJob(xa))
	fmt.Printf("%-30s %7.0f ms  (%.2f ms/job)   ratio %.2f   goal ≤ 1.50  %s\n", "executor, 64 MiB via "+string(limiter), ms(ex), perJob(ex), float64(ex)/float64(xa), verdict(float64(ex)/float64(xa) <= 1.5))
	fmt.Printf("%-30s %7.0f ms  (%.2f ms/job)   ratio %.2f   (without the limit's extra exec)\n\n", "executor, no memory limit", ms(exNoLimit), perJob(exNoLimit), float64(exNoLimit)/float64(xa))
}

// runXargs runs the jobs with xargs, output to a file as the executor's
// logs are.
func runXargs(n int) (time.Duration, error) {
	var in strings.Builder
	for i := range benchJobs {
		fmt.Fprintf(&in, "%d\n", i)
	}
	out, err := os.CreateTemp("", "bench-xargs-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := exec.Command("xargs", append([]string{"-P" + strconv.Itoa(n), "-n1"}, benchCommand...)...)
	cmd.Stdin, cmd.Stdout = strings.NewReader(in.String()), out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("xargs: %w", err)
	}
	return time.Since(start), nil
}

func runExecutorNoLimit() (time.Duration, error) {
	d, _, err := runExecutor(0)
	return d, err
}

// runExecutor submits every job (cpu 1, so NumCPU run at once, as xargs
// -P$(nproc)) and waits until every final state was reported.
func runExecutor(mib int) (time.Duration, localcloud.MemoryLimiter, error) {
	dir, err := os.MkdirTemp("", "bench-batch-*")
	if err != nil {
		return 0, "", err
	}
	defer os.RemoveAll(dir)
	var mu sync.Mutex
	var failed []string
	done := make(chan struct{})
	ended := 0
	b, err := localcloud.NewBatch(localcloud.BatchOptions{Dir: dir, OnState: func(_ context.Context, s cloud.BatchJobState) error {
		if s.Status != "SUCCEEDED" && s.Status != "FAILED" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if s.Status == "FAILED" {
			failed = append(failed, s.Reason)
		}
		if ended++; ended == benchJobs {
			close(done)
		}
		return nil
	}})
	if err != nil {
		return 0, "", err
	}
	defer b.Close()
	ctx := context.Background()
	start := time.Now()
	for i := range benchJobs {
		argv := append(append([]string{}, benchCommand...), strconv.Itoa(i))
		spec := cloud.BatchJobSpec{BatchID: "bench", Index: i, Attempt: 1, Name: fmt.Sprintf("bench-%d-1", i), Argv: argv, CPU: 1, Memory: mib}
		if _, err := b.Submit(ctx, cloud.Target{}, spec); err != nil {
			return 0, "", err
		}
	}
	<-done
	d := time.Since(start)
	if len(failed) > 0 {
		return 0, "", fmt.Errorf("executor: %d jobs failed, first: %s", len(failed), failed[0])
	}
	return d, b.Limiter(), nil
}
