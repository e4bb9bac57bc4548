package local

import (
	"os"
	"path/filepath"
	"strconv"
)

// segMax is the size from which a slot starts a new log segment.
const segMax = 64 << 20

// slot is where one running job lives: a temporary directory (its TMPDIR,
// HOME and working directory) and the log segment its output is appended
// to. Slots are reused, one per job running at once, so a job costs no
// mkdir, rmdir or file creation: metadata writes are the slowest part of a
// trivial job on a busy disk (about 1 ms each on this project's shared
// machine, against 1 ms for the whole process). One job at a time per
// slot keeps each job's log lines contiguous in its segment.
type slot struct {
	tmp  string
	seg  *os.File
	name string
	size int64
}

func (b *Batch) takeSlot() *slot {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := len(b.slots); n > 0 {
		sl := b.slots[n-1]
		b.slots = b.slots[:n-1]
		return sl
	}
	b.slotSeq++
	return &slot{tmp: filepath.Join(b.o.Dir, "tmp", "slot-"+strconv.Itoa(b.slotSeq))}
}

// prepare makes the slot's directory and, for its first job or once its
// segment is large, a new segment.
func (b *Batch) prepare(sl *slot) error {
	if err := os.MkdirAll(sl.tmp, 0o700); err != nil {
		return err
	}
	if sl.seg != nil && sl.size < segMax {
		return nil
	}
	if sl.seg != nil {
		sl.seg.Close()
		sl.seg = nil
	}
	b.mu.Lock()
	b.segSeq++
	name := "seg-" + b.epoch + "-" + strconv.Itoa(b.segSeq)
	b.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(b.o.Dir, "logs", name), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	sl.seg, sl.name, sl.size = f, name, 0
	return nil
}

// giveSlot empties the slot's directory for the next job (or removes it,
// when a job left what cannot be emptied: prepare makes it again) and
// returns the slot to the pool.
func (b *Batch) giveSlot(sl *slot) {
	err := os.Chmod(sl.tmp, 0o700)
	if err == nil {
		var ents []os.DirEntry
		ents, err = os.ReadDir(sl.tmp)
		for _, e := range ents {
			if err == nil {
				err = os.RemoveAll(filepath.Join(sl.tmp, e.Name()))
			}
		}
	}
	if err != nil {
		_ = os.RemoveAll(sl.tmp)
	}
	b.mu.Lock()
	b.slots = append(b.slots, sl)
	b.mu.Unlock()
}

// closeSlots closes the segments once no job runs.
func (b *Batch) closeSlots() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, sl := range b.slots {
		if sl.seg != nil {
			sl.seg.Close()
		}
	}
	b.slots = nil
}
