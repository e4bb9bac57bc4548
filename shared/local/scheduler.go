package local

import (
	"context"
	"log/slog"
	"time"

	"github.com/batchplane/batchplane/shared/kragle"
)

// DefaultScheduleEvery is how often make run's scheduler looks for due
// Kragle jobs: a firing is at most this late, plus the time to start its
// run (the goal is under a second).
const DefaultScheduleEvery = 200 * time.Millisecond

// scheduler fires due Kragle jobs every period until ctx ends. Its state
// is DynamoDB's (the due index), so a restarted make run carries on where
// the last stopped: a firing whose time passed while it was down fires
// once at start-up (not once per missed period), and a claimed firing
// is never fired again (kragle.Service.Fire).
type scheduler struct {
	svc   *kragle.Service
	now   func() time.Time
	every time.Duration
	// onFire, when set, sees every firing (tests, the bench).
	onFire func(kragle.Fired)
	done   chan struct{}
}

func (s *scheduler) run(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		if _, err := s.fire(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("kragle scheduler", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// fire runs one pass: what is due at the scheduler's clock.
func (s *scheduler) fire(ctx context.Context) ([]kragle.Fired, error) {
	fs, err := s.svc.Fire(ctx, s.now())
	if s.onFire != nil {
		for _, f := range fs {
			s.onFire(f)
		}
	}
	return fs, err
}

// FireDue runs one scheduler pass now, on the scheduler's clock, and
// returns what fired: what the loop does every DefaultScheduleEvery.
// Tests call it to show that nothing more is due.
func (rt *Runtime) FireDue(ctx context.Context) ([]kragle.Fired, error) { return rt.sched.fire(ctx) }
