package local_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/batchplane/batchplane/shared/local"
)

// steps is a Dispatcher whose batches need a number of steps each; it
// records the calls and how many ran at once per batch.
type steps struct {
	mu      sync.Mutex
	left    map[string]int
	fails   map[string]int
	calls   map[string]int
	running map[string]int
	overlap bool
	hook    func(id string, call int)
}

func (s *steps) Dispatch(ctx context.Context, id string) (bool, error) {
	s.mu.Lock()
	s.calls[id]++
	call := s.calls[id]
	s.running[id]++
	if s.running[id] > 1 {
		s.overlap = true
	}
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(id, call)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running[id]--
	if s.fails[id] > 0 {
		s.fails[id]--
		return false, errors.New("store hiccup")
	}
	if s.left[id] > 0 {
		s.left[id]--
	}
	return s.left[id] > 0, nil
}

func (s *steps) snapshot(id string) (calls, left int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id], s.left[id]
}

func TestKickerDispatchesUntilNoMore(t *testing.T) {
	cases := []struct {
		name      string
		steps     int
		fails     int
		wantCalls int
	}{
		{"one step", 1, 0, 1},
		{"several steps", 4, 0, 4},
		{"errors are retried", 2, 2, 4},
		{"persistent errors are left to the sweep", 3, 10, 5}, // kickRetries
	}
	d := &steps{left: map[string]int{}, fails: map[string]int{}, calls: map[string]int{}, running: map[string]int{}}
	for i, c := range cases {
		id := fmt.Sprintf("B-%d", i)
		d.left[id], d.fails[id] = c.steps, c.fails
	}
	k := local.NewKicker(context.Background(), 2, func() local.Dispatcher { return d })
	defer k.Close()
	for i := range cases {
		_ = k.Kick(context.Background(), fmt.Sprintf("B-%d", i))
	}
	for i, c := range cases {
		id := fmt.Sprintf("B-%d", i)
		eventually(t, c.name, func() bool { calls, _ := d.snapshot(id); return calls >= c.wantCalls })
		if calls, _ := d.snapshot(id); calls != c.wantCalls {
			t.Errorf("%s: %d calls, want %d", c.name, calls, c.wantCalls)
		}
	}
}

// TestKickerKickDuringDispatch: a kick while the batch is being dispatched
// runs it once more afterwards, never two dispatches of one batch at once.
func TestKickerKickDuringDispatch(t *testing.T) {
	d := &steps{left: map[string]int{"B-1": 1}, fails: map[string]int{}, calls: map[string]int{}, running: map[string]int{}}
	var k *local.Kicker
	inside := make(chan struct{})
	d.hook = func(id string, call int) {
		if call == 1 {
			_ = k.Kick(context.Background(), id)
			_ = k.Kick(context.Background(), id)
			close(inside)
		}
	}
	k = local.NewKicker(context.Background(), 3, func() local.Dispatcher { return d })
	defer k.Close()
	_ = k.Kick(context.Background(), "B-1")
	<-inside
	eventually(t, "the second dispatch", func() bool { calls, _ := d.snapshot("B-1"); return calls >= 2 })
	k.Close()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.calls["B-1"] != 2 || d.overlap {
		t.Fatalf("%d dispatches (want 2: the kicks during the first coalesce), overlapping %v", d.calls["B-1"], d.overlap)
	}
}
