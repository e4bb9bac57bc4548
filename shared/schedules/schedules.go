// Package schedules is the pure core of schedules (issue 9): a schedule's
// config as Kragle documents it (period or timestamp) and, beyond Kragle,
// EventBridge Scheduler's expressions (rate, cron, at) with a time zone and
// start and end dates; validation with messages that name the field and the
// value; the next fire time; and the ScheduleExpression and
// ScheduleExpressionTimezone EventBridge Scheduler is given. Standard
// library only: it is linked into Lambdas (see docs/schedules.md).
package schedules

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batchplane/batchplane/shared/errs"
)

// Limits of what a config may hold. EventBridge Scheduler's own limits are
// 256 characters for ScheduleExpression and 50 for its time zone; the year
// range is cron's (1970-2199), applied to every form so that one horizon
// holds for all of them.
const (
	maxExpressionLen = 256
	maxTimezoneLen   = 50
	minYear          = 1970
	maxYear          = 2199
	// maxInterval bounds a period or rate (100 years): well past any real
	// schedule, and small enough that time arithmetic cannot overflow.
	maxInterval = 36500 * 24 * time.Hour
)

// horizon is the first instant after the last one a schedule can fire at.
var horizon = time.Date(maxYear+1, 1, 1, 0, 0, 0, 0, time.UTC)

// Config is a schedule's config. Exactly one of Period, Timestamp and
// Expression is set; Timezone applies to cron and at expressions, Start and
// End to recurring schedules.
type Config struct {
	// Period is Kragle's: seconds between runs.
	Period *int64 `json:"period,omitempty"`
	// Timestamp is Kragle's: when a one-time schedule runs, Unix seconds.
	Timestamp *int64 `json:"timestamp,omitempty"`
	// Expression is EventBridge Scheduler's: rate(...), cron(...) or at(...).
	Expression *string `json:"expression,omitempty"`
	// Timezone is an IANA name in which cron and at expressions are read;
	// UTC when absent.
	Timezone *string `json:"timezone,omitempty"`
	// Start and End bound a recurring schedule, Unix seconds, inclusive.
	Start *int64 `json:"start,omitempty"`
	End   *int64 `json:"end,omitempty"`
}

// kind is what a schedule's fire times are made of.
type kind int

const (
	kindRate kind = iota // every interval from an anchor (period, rate)
	kindOnce             // one instant (timestamp, at)
	kindCron             // cron fields read in a time zone
)

// Schedule is a validated config: it answers when it fires next and how
// EventBridge Scheduler is to be told.
type Schedule struct {
	kind     kind
	interval time.Duration // kindRate
	anchor   time.Time     // kindRate: the first fire
	at       time.Time     // kindOnce
	cron     *cron         // kindCron
	loc      *time.Location
	tzName   string // "" when the config names none
	start    time.Time
	end      time.Time // the zero time when there is none
	expr     string    // the EventBridge Scheduler expression
}

// New validates c. created is when the schedule was created: a period or
// rate without start fires first then and every interval after, as
// EventBridge Scheduler starts a rate schedule without StartDate at once.
// Every error is an errs.Invalid naming the config key and the value.
func New(c Config, created time.Time) (*Schedule, error) {
	if err := exactlyOne(c); err != nil {
		return nil, err
	}
	s := &Schedule{loc: time.UTC}
	if err := s.setBounds(c); err != nil {
		return nil, err
	}
	var err error
	switch {
	case c.Period != nil:
		err = s.setPeriod(*c.Period)
	case c.Timestamp != nil:
		err = s.setTimestamp(*c.Timestamp)
	default:
		err = s.setExpression(*c.Expression)
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkKind(c); err != nil {
		return nil, err
	}
	if s.kind == kindRate {
		s.anchor = s.start
		if c.Start == nil {
			if created.Before(time.Unix(0, 0)) || !created.Before(horizon) {
				return nil, errs.E(errs.Internal, "schedules: a rate schedule without start needs its creation time, got %s", created)
			}
			s.anchor = created
		}
	}
	return s, nil
}

// exactlyOne checks that c has exactly one of period, timestamp and
// expression.
func exactlyOne(c Config) error {
	var set []string
	if c.Period != nil {
		set = append(set, "period")
	}
	if c.Timestamp != nil {
		set = append(set, "timestamp")
	}
	if c.Expression != nil {
		set = append(set, "expression")
	}
	switch len(set) {
	case 1:
		return nil
	case 0:
		return invalid("config", "config needs exactly one of period, timestamp or expression; it has none")
	default:
		return invalid("config", "config needs exactly one of period, timestamp or expression; it has %s", strings.Join(set, " and "))
	}
}

// setBounds reads the time zone and the start and end dates.
func (s *Schedule) setBounds(c Config) error {
	if c.Timezone != nil {
		loc, err := loadZone(*c.Timezone)
		if err != nil {
			return err
		}
		s.loc, s.tzName = loc, *c.Timezone
	}
	if c.Start != nil {
		t, err := unixField("start", *c.Start)
		if err != nil {
			return err
		}
		s.start = t
	}
	if c.End != nil {
		t, err := unixField("end", *c.End)
		if err != nil {
			return err
		}
		s.end = t
	}
	if c.Start != nil && c.End != nil && !s.start.Before(s.end) {
		return invalid("config.end", "config.end (%d) must be after config.start (%d)", *c.End, *c.Start)
	}
	return nil
}

// checkKind refuses keys that have no meaning for the schedule's kind,
// rather than ignoring them: a client that sends them expects an effect.
func (s *Schedule) checkKind(c Config) error {
	if s.kind == kindOnce {
		for _, k := range []struct {
			name string
			set  bool
		}{{"start", c.Start != nil}, {"end", c.End != nil}} {
			if k.set {
				return invalid("config."+k.name, "config.%s applies only to recurring schedules; %s runs once", k.name, s.expr)
			}
		}
	}
	if c.Timezone != nil && s.kind == kindRate {
		return invalid("config.timezone", "config.timezone applies only to cron and at expressions; %s is a fixed interval", s.expr)
	}
	if c.Timezone != nil && c.Timestamp != nil {
		return invalid("config.timezone", "config.timezone does not apply to config.timestamp, which is Unix seconds")
	}
	return nil
}

// loadZone loads an IANA time zone; "Local" and "" are refused (they name
// the server's zone, not the client's).
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > maxTimezoneLen {
		return nil, invalid("config.timezone", "config.timezone %q is not an IANA time zone name (such as America/New_York)", clip(name))
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, invalid("config.timezone", "config.timezone %q is not an IANA time zone name (such as America/New_York)", clip(name))
	}
	return loc, nil
}

// unixField checks a Unix-seconds key against the years schedules cover.
func unixField(key string, v int64) (time.Time, error) {
	if v < 0 || v >= horizon.Unix() {
		return time.Time{}, invalid("config."+key, "config.%s %d is out of range: Unix seconds from 0 (1970) to %d (the end of %d)", key, v, horizon.Unix()-1, maxYear)
	}
	return time.Unix(v, 0).UTC(), nil
}

// setPeriod sets Kragle's period. EventBridge Scheduler's rate has minute
// granularity, so a period must be a whole number of minutes: refused
// otherwise rather than rounded, which would change how often it runs.
func (s *Schedule) setPeriod(p int64) error {
	if p < 60 || p%60 != 0 || time.Duration(p)*time.Second > maxInterval {
		return invalid("config.period", "config.period %d is not a whole number of minutes: it must be a multiple of 60 seconds from 60 to %d (EventBridge Scheduler runs schedules at one-minute granularity)", p, int64(maxInterval/time.Second))
	}
	s.kind, s.interval = kindRate, time.Duration(p)*time.Second
	s.expr = rateExpression(s.interval)
	return nil
}

// setTimestamp sets Kragle's one-time timestamp.
func (s *Schedule) setTimestamp(ts int64) error {
	t, err := unixField("timestamp", ts)
	if err != nil {
		return err
	}
	s.kind, s.at = kindOnce, t
	s.expr = "at(" + t.Format(atLayout) + ")"
	return nil
}

// setExpression parses an EventBridge Scheduler expression.
func (s *Schedule) setExpression(e string) error {
	if len(e) > maxExpressionLen {
		return invalid("config.expression", "config.expression is %d characters long; at most %d are allowed", len(e), maxExpressionLen)
	}
	switch {
	case strings.HasPrefix(e, "rate(") && strings.HasSuffix(e, ")"):
		d, err := parseRate(e)
		if err != nil {
			return err
		}
		s.kind, s.interval, s.expr = kindRate, d, rateExpression(d)
	case strings.HasPrefix(e, "cron(") && strings.HasSuffix(e, ")"):
		c, err := parseCron(e)
		if err != nil {
			return err
		}
		s.kind, s.cron, s.expr = kindCron, c, c.String()
	case strings.HasPrefix(e, "at(") && strings.HasSuffix(e, ")"):
		t, err := parseAt(e, s.loc)
		if err != nil {
			return err
		}
		s.kind, s.at, s.expr = kindOnce, t, "at("+t.In(s.loc).Format(atLayout)+")"
	default:
		return invalid("config.expression", "config.expression %q is not rate(value unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)", clip(e))
	}
	return nil
}

// Next returns the first fire time strictly after after, and false when
// there is none: a one-time schedule already past, a recurring one past its
// end or its last year.
func (s *Schedule) Next(after time.Time) (time.Time, bool) {
	if !s.start.IsZero() && after.Before(s.start) {
		// A fire exactly at start counts: start is inclusive.
		after = s.start.Add(-time.Nanosecond)
	}
	limit := horizon.Add(-time.Nanosecond)
	if !s.end.IsZero() {
		limit = s.end
	}
	if !after.Before(limit) {
		return time.Time{}, false
	}
	var t time.Time
	switch s.kind {
	case kindOnce:
		t = s.at
		if !t.After(after) {
			return time.Time{}, false
		}
	case kindRate:
		t = s.anchor
		if !after.Before(s.anchor) {
			n := after.Sub(s.anchor) / s.interval
			t = s.anchor.Add(n * s.interval).Add(s.interval)
		}
	default:
		var ok bool
		if t, ok = s.cron.next(after, s.loc, limit); !ok {
			return time.Time{}, false
		}
	}
	if t.After(limit) {
		return time.Time{}, false
	}
	return t, true
}

// Once reports whether the schedule fires only once (Kragle's once).
func (s *Schedule) Once() bool { return s.kind == kindOnce }

// Expression is the schedule as EventBridge Scheduler's ScheduleExpression,
// in canonical form (a period as rate in its largest whole unit, a
// timestamp as at in UTC, cron names upper-cased).
func (s *Schedule) Expression() string { return s.expr }

// ScheduleExpressionTimezone is the time zone EventBridge Scheduler reads
// the expression in: the config's, or UTC.
func (s *Schedule) ScheduleExpressionTimezone() string {
	if s.tzName == "" {
		return "UTC"
	}
	return s.tzName
}

// StartDate is EventBridge Scheduler's StartDate: the config's start, or
// false when it has none.
func (s *Schedule) StartDate() (time.Time, bool) { return s.start, !s.start.IsZero() }

// EndDate is EventBridge Scheduler's EndDate: the config's end, or false
// when it has none.
func (s *Schedule) EndDate() (time.Time, bool) { return s.end, !s.end.IsZero() }

// invalid builds an Invalid error whose message says what is wrong, with the
// same sentence under the field's name for the surfaces that list fields.
func invalid(field, format string, args ...any) *errs.Error {
	msg := fmt.Sprintf(format, args...)
	return &errs.Error{Code: errs.Invalid, Message: msg, Fields: map[string]string{field: msg}}
}

// clip shortens a value quoted in an error message, keeping it valid
// UTF-8.
func clip(s string) string {
	if utf8.RuneCountInString(s) > 64 {
		return string([]rune(s)[:64]) + "…"
	}
	return s
}
