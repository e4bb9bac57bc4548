package local

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// MemoryLimiter is how the local executor enforces a job's memory.
type MemoryLimiter string

// Memory limiters. The limit is RLIMIT_AS (address space) on each process
// of the job, set before the job's program runs: util-linux prlimit where
// it exists (Debian's util-linux ships it), else the shell's ulimit -v,
// else none. Why not a cgroup: a cgroup's memory.max would bound the whole
// job's resident memory, but creating one needs a writable cgroup v2
// hierarchy with the memory controller delegated, which a plain machine
// without systemd (or a container) often does not give; RLIMIT_AS needs
// nothing. Its cost: it counts virtual memory, which runtimes that reserve
// large address ranges (the JVM, Go) exceed well before their resident
// memory does, and it is per process, not per job.
const (
	LimitAuto    MemoryLimiter = ""
	LimitPrlimit MemoryLimiter = "prlimit"
	LimitUlimit  MemoryLimiter = "ulimit"
	LimitNone    MemoryLimiter = "none"
)

// resolve picks the limiter LimitAuto stands for on this machine.
func (m MemoryLimiter) resolve() MemoryLimiter {
	if m != LimitAuto {
		return m
	}
	if _, err := exec.LookPath("prlimit"); err == nil {
		return LimitPrlimit
	}
	if _, err := os.Stat("/bin/sh"); err == nil {
		return LimitUlimit
	}
	return LimitNone
}

// wrap returns the argv that runs argv under a memory limit of mib MiB
// (0 = no limit). The job's own argv stays verbatim: prlimit execs it
// directly; the ulimit form passes it as "$@" to exec, never as a script.
func (m MemoryLimiter) wrap(argv []string, mib int) []string {
	if mib <= 0 {
		return argv
	}
	bytes := int64(mib) << 20
	switch m {
	case LimitPrlimit:
		return append([]string{"prlimit", "--as=" + strconv.FormatInt(bytes, 10), "--"}, argv...)
	case LimitUlimit:
		return append([]string{"/bin/sh", "-c", `ulimit -v "$1" || exit 125; shift; exec "$@"`, "sh", strconv.FormatInt(bytes>>10, 10)}, argv...)
	}
	return argv
}

// reason says why a job's process failed. Under RLIMIT_AS a refused
// allocation kills most programs by a signal (a shell's segmentation
// fault, C++'s abort) or their own exit; the executor cannot tell that from
// a bug, so a signal death under a limit names the limit rather than
// claiming it was the cause.
func (m MemoryLimiter) reason(err error, mib int) string {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return "start: " + err.Error()
	}
	msg := ee.ProcessState.String()
	ws, ok := ee.ProcessState.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() && mib > 0 && m != LimitNone {
		switch ws.Signal() {
		case syscall.SIGSEGV, syscall.SIGABRT, syscall.SIGKILL, syscall.SIGBUS:
			msg += fmt.Sprintf(" (memory limit %d MiB)", mib)
		}
	}
	return msg
}

// killGroup signals a job's whole process group.
func killGroup(pid int, hard bool) error {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	return syscall.Kill(-pid, sig)
}

// run runs one job to its end: its own temporary directory as TMPDIR,
// HOME and working directory (removed afterwards), a minimal environment
// (nothing of the server's own, say its AWS credentials, leaks into a
// tool), stdout and stderr as its log, its own process group. When the
// job's main process exits, what it left behind in its group is killed, as
// a container's end kills every process in it.
func (b *Batch) run(j *job) {
	defer b.wg.Done()
	sl := b.takeSlot()
	var started *time.Time
	err := b.exec(j, sl, &started)
	b.giveSlot(sl)
	b.finish(j, started, err)
}

func (b *Batch) exec(j *job, sl *slot, started **time.Time) error {
	if _, err := exec.LookPath(j.spec.Argv[0]); err != nil {
		return err
	}
	if err := b.prepare(sl); err != nil {
		return err
	}
	lw, err := newLogWriter(sl, j.state.ExternalID, b.o.LogLimit)
	if err != nil {
		return err
	}
	argv := b.limiter.wrap(j.spec.Argv, j.spec.Memory)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = sl.tmp, jobEnv(j, sl.tmp)
	cmd.Stdout, cmd.Stderr = lw.w, lw.w
	// Its own group, so a cancel reaches every process of the job; and
	// killed with the server should the server die without Close (its
	// main process only: what that leaves behind may outlive a SIGKILLed
	// server).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	b.mu.Lock()
	if j.cancelled {
		b.mu.Unlock()
		lw.abort()
		return errors.New("cancelled")
	}
	err = cmd.Start()
	if err != nil {
		b.mu.Unlock()
		lw.abort()
		return err
	}
	t := b.now()
	*started = &t
	j.pid = cmd.Process.Pid
	j.state.StartedAt, j.state.LogID = &t, lw.logID
	b.setLocked(j, "RUNNING", "")
	b.mu.Unlock()
	lw.started()
	err = cmd.Wait()
	_ = killGroup(cmd.Process.Pid, true)
	lw.wait()
	return err
}

// jobEnv is the job's whole environment: PATH and the locale from the
// server, the job's directories, and AWS Batch's job variables.
func jobEnv(j *job, tmp string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	env := []string{"PATH=" + path, "HOME=" + tmp, "TMPDIR=" + tmp,
		"AWS_BATCH_JOB_ID=" + j.state.ExternalID, "AWS_BATCH_JOB_ATTEMPT=" + strconv.Itoa(j.spec.Attempt),
		"BATCHPLANE_BATCH_ID=" + j.spec.BatchID, "BATCHPLANE_JOB_INDEX=" + strconv.Itoa(j.spec.Index)}
	for _, k := range []string{"LANG", "LC_ALL", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
