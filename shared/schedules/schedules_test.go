package schedules

import (
	"strings"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/errs"
)

func i64(v int64) *int64   { return &v }
func str(v string) *string { return &v }

// Every invalid config is an errs.Invalid whose message names the key and
// says what is wrong with the value.
func TestNewInvalid(t *testing.T) {
	now := mustTime(t, "2026-01-01T00:00:00Z")
	cases := []struct {
		name  string
		c     Config
		field string
		msg   string // a part of the message
	}{
		{"nothing", Config{}, "config", "exactly one of period, timestamp or expression; it has none"},
		{"two forms", Config{Period: i64(60), Expression: str("rate(1 minute)")}, "config", "it has period and expression"},
		{"three forms", Config{Period: i64(60), Timestamp: i64(1), Expression: str("rate(1 minute)")}, "config", "period and timestamp and expression"},
		{"both day fields", Config{Expression: str("cron(0 0 1 * MON *)")}, "config.expression", `day-of-month "1" and day-of-week "MON" are both set; one of them must be ?`},
		{"both day fields *", Config{Expression: str("cron(0 0 * * * *)")}, "config.expression", "are both set"},
		{"both day fields ?", Config{Expression: str("cron(0 0 ? * ? *)")}, "config.expression", "both ?"},
		{"minute 60", Config{Expression: str("cron(60 * * * ? *)")}, "config.expression", `minutes "60": the value 60 is out of range 0-59`},
		{"hour 24", Config{Expression: str("cron(0 24 * * ? *)")}, "config.expression", `hours "24": the value 24 is out of range 0-23`},
		{"day 32", Config{Expression: str("cron(0 0 32 * ? *)")}, "config.expression", `day-of-month "32": the value 32 is out of range 1-31`},
		{"day 0", Config{Expression: str("cron(0 0 0 * ? *)")}, "config.expression", "out of range 1-31"},
		{"month 13", Config{Expression: str("cron(0 0 1 13 ? *)")}, "config.expression", `month "13": the value 13 is out of range 1-12`},
		{"day-of-week 0", Config{Expression: str("cron(0 0 ? * 0 *)")}, "config.expression", `day-of-week "0": the value 0 is out of range 1-7`},
		{"day-of-week 8", Config{Expression: str("cron(0 0 ? * 8 *)")}, "config.expression", "out of range 1-7"},
		{"year 2200", Config{Expression: str("cron(0 0 1 * ? 2200)")}, "config.expression", `year "2200": the value 2200 is out of range 1970-2199`},
		{"year 1969", Config{Expression: str("cron(0 0 1 * ? 1969)")}, "config.expression", "out of range 1970-2199"},
		{"year range backwards", Config{Expression: str("cron(0 0 1 1 ? 2030-2020)")}, "config.expression", `year "2030-2020": the range runs backwards`},
		{"step 0", Config{Expression: str("cron(0/0 * * * ? *)")}, "config.expression", `minutes "0": the increment 0 is out of range 1-60`},
		{"step 61", Config{Expression: str("cron(*/61 * * * ? *)")}, "config.expression", "the increment 61 is out of range 1-60"},
		{"step not a number", Config{Expression: str("cron(0/x * * * ? *)")}, "config.expression", `cron(0/X * * * ? *): minutes "X": the increment is not a number 1-60`},
		{"unknown month name", Config{Expression: str("cron(0 0 1 JANUARY ? *)")}, "config.expression", `month "JANUARY": not a number 1-12 or a name JAN-DEC`},
		{"unknown day name", Config{Expression: str("cron(0 0 ? * MONDAY *)")}, "config.expression", "not a number 1-7 or a name SUN-SAT"},
		{"empty list element", Config{Expression: str("cron(0,,5 * * * ? *)")}, "config.expression", `minutes "": the value is not a number 0-59`},
		{"five fields", Config{Expression: str("cron(0 0 * * ?)")}, "config.expression", "has 5 fields; cron needs 6"},
		{"seven fields", Config{Expression: str("cron(0 0 0 * * ? *)")}, "config.expression", "has 7 fields"},
		{"? in minutes", Config{Expression: str("cron(? 0 * * ? *)")}, "config.expression", "? is allowed only in day-of-month and day-of-week"},
		{"# twice", Config{Expression: str("cron(0 0 ? * 3#1,6#3 *)")}, "config.expression", "3#1,6#3 is two expressions"},
		{"# week 6", Config{Expression: str("cron(0 0 ? * 3#6 *)")}, "config.expression", `day-of-week "6": the week 6 is out of range 1-5`},
		{"# in day-of-month", Config{Expression: str("cron(0 0 3#1 * ? *)")}, "config.expression", "# is allowed only in day-of-week"},
		{"/ in day-of-week", Config{Expression: str("cron(0 0 ? * 1/2 *)")}, "config.expression", "/ is not allowed in day-of-week"},
		{"W in day-of-week", Config{Expression: str("cron(0 0 ? * 3W *)")}, "config.expression", "W is allowed only in day-of-month"},
		{"L-2 undocumented", Config{Expression: str("cron(0 0 L-2 * ? *)")}, "config.expression", "stand alone"},
		{"LW undocumented", Config{Expression: str("cron(0 0 LW * ? *)")}, "config.expression", "W takes one day and stands alone"},
		{"W in a list", Config{Expression: str("cron(0 0 1,3W * ? *)")}, "config.expression", "W takes one day"},
		{"32W", Config{Expression: str("cron(0 0 32W * ? *)")}, "config.expression", "the day 32 is out of range 1-31"},
		{"nL in a list", Config{Expression: str("cron(0 0 ? * 2,6L *)")}, "config.expression", "nL takes one day and stands alone"},
		{"8L", Config{Expression: str("cron(0 0 ? * 8L *)")}, "config.expression", "out of range 1-7"},
		{"rate(0 minutes)", Config{Expression: str("rate(0 minutes)")}, "config.expression", `the value "0" must be a positive whole number`},
		{"rate(-5 minutes)", Config{Expression: str("rate(-5 minutes)")}, "config.expression", "must be a positive whole number"},
		{"rate(1.5 hours)", Config{Expression: str("rate(1.5 hours)")}, "config.expression", "must be a positive whole number"},
		{"rate(1 minutes)", Config{Expression: str("rate(1 minutes)")}, "config.expression", "with the value 1 the unit must be singular (minute)"},
		{"rate(1 hours)", Config{Expression: str("rate(1 hours)")}, "config.expression", "singular (hour)"},
		// The Scheduler page's prose writes rate(1 days); EventBridge's rate
		// reference says the unit must be singular for 1, and we follow it.
		{"rate(1 days)", Config{Expression: str("rate(1 days)")}, "config.expression", "singular (day)"},
		{"rate(5 hour)", Config{Expression: str("rate(5 hour)")}, "config.expression", "with a value over 1 the unit must be plural (hours)"},
		{"rate(5 weeks)", Config{Expression: str("rate(5 weeks)")}, "config.expression", `the unit "weeks" is not one of minute, minutes, hour, hours, day, days`},
		{"rate(5)", Config{Expression: str("rate(5)")}, "config.expression", "two fields"},
		{"rate too long", Config{Expression: str("rate(36501 days)")}, "config.expression", "longer than 36500 days"},
		{"at Feb 30", Config{Expression: str("at(2026-02-30T00:00:00)")}, "config.expression", "is not at(yyyy-mm-ddThh:mm:ss) with a real date"},
		{"at unpadded", Config{Expression: str("at(2026-1-2T00:00:00)")}, "config.expression", "is not at(yyyy-mm-ddThh:mm:ss)"},
		{"at in the spring gap", Config{Expression: str("at(2026-03-08T02:30:00)"), Timezone: str("America/New_York")}, "config.expression", "does not exist in America/New_York"},
		{"at year 2200", Config{Expression: str("at(2200-01-01T00:00:00)")}, "config.expression", "the year 2200 is out of range 1970-2199"},
		{"not an expression", Config{Expression: str("every day")}, "config.expression", `"every day" is not rate(value unit), cron(`},
		{"upper-case prefix", Config{Expression: str("CRON(0 10 * * ? *)")}, "config.expression", "is not rate(value unit)"},
		{"expression too long", Config{Expression: str("cron(" + strings.Repeat("0,", 200) + "0 * * * ? *)")}, "config.expression", "at most 256"},
		{"bad timezone", Config{Expression: str("cron(0 10 * * ? *)"), Timezone: str("Mars/Olympus")}, "config.timezone", `"Mars/Olympus" is not an IANA time zone name`},
		{"Local timezone", Config{Expression: str("cron(0 10 * * ? *)"), Timezone: str("Local")}, "config.timezone", "not an IANA time zone name"},
		{"empty timezone", Config{Expression: str("cron(0 10 * * ? *)"), Timezone: str("")}, "config.timezone", "not an IANA time zone name"},
		{"path as timezone", Config{Expression: str("cron(0 10 * * ? *)"), Timezone: str("../../etc/passwd")}, "config.timezone", "not an IANA time zone name"},
		{"timezone with period", Config{Period: i64(60), Timezone: str("UTC")}, "config.timezone", "applies only to cron and at expressions"},
		{"timezone with rate", Config{Expression: str("rate(5 minutes)"), Timezone: str("UTC")}, "config.timezone", "rate(5 minutes) is a fixed interval"},
		{"timezone with timestamp", Config{Timestamp: i64(1795179600), Timezone: str("UTC")}, "config.timezone", "does not apply to config.timestamp"},
		{"period 90", Config{Period: i64(90)}, "config.period", "config.period 90 is not a whole number of minutes"},
		{"period 30", Config{Period: i64(30)}, "config.period", "multiple of 60 seconds from 60"},
		{"period 0", Config{Period: i64(0)}, "config.period", "config.period 0"},
		{"period too long", Config{Period: i64(36501 * 86400)}, "config.period", "from 60 to 3153600000"},
		{"timestamp negative", Config{Timestamp: i64(-1)}, "config.timestamp", "config.timestamp -1 is out of range"},
		{"timestamp after 2199", Config{Timestamp: i64(7258118400)}, "config.timestamp", "out of range"},
		{"start after end", Config{Period: i64(60), Start: i64(200), End: i64(100)}, "config.end", "config.end (100) must be after config.start (200)"},
		{"start equals end", Config{Period: i64(60), Start: i64(100), End: i64(100)}, "config.end", "must be after"},
		{"start negative", Config{Period: i64(60), Start: i64(-5)}, "config.start", "config.start -5 is out of range"},
		{"start with timestamp", Config{Timestamp: i64(1795179600), Start: i64(0)}, "config.start", "applies only to recurring schedules"},
		{"end with at", Config{Expression: str("at(2026-11-20T13:00:00)"), End: i64(1800000000)}, "config.end", "at(2026-11-20T13:00:00) runs once"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.c, now)
			if err == nil {
				t.Fatalf("New: got %s, want an error", s.Expression())
			}
			e := errs.As(err)
			if e == nil || e.Code != errs.Invalid {
				t.Fatalf("got %v, want an errs.Invalid", err)
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tc.msg)
			}
			if got := e.Fields[tc.field]; got != e.Message {
				t.Errorf("Fields[%q] = %q, want the message %q (fields %v)", tc.field, got, e.Message, e.Fields)
			}
		})
	}
}

// Expression and ScheduleExpressionTimezone are what EventBridge Scheduler
// is given: Kragle's forms mapped, AWS's written canonically.
func TestExpression(t *testing.T) {
	now := mustTime(t, "2026-01-01T00:00:00Z")
	cases := []struct {
		name     string
		c        Config
		expr, tz string
		once     bool
	}{
		{"period 60", Config{Period: i64(60)}, "rate(1 minute)", "UTC", false},
		{"period 300", Config{Period: i64(300)}, "rate(5 minutes)", "UTC", false},
		{"period 5400", Config{Period: i64(5400)}, "rate(90 minutes)", "UTC", false},
		{"period 3600", Config{Period: i64(3600)}, "rate(1 hour)", "UTC", false},
		{"period 7200", Config{Period: i64(7200)}, "rate(2 hours)", "UTC", false},
		{"period 90000", Config{Period: i64(90000)}, "rate(25 hours)", "UTC", false},
		{"period 86400", Config{Period: i64(86400)}, "rate(1 day)", "UTC", false},
		{"period 604800", Config{Period: i64(604800)}, "rate(7 days)", "UTC", false},
		{"timestamp", Config{Timestamp: i64(1795179600)}, "at(2026-11-20T13:00:00)", "UTC", true},
		{"timestamp with seconds", Config{Timestamp: i64(1795179645)}, "at(2026-11-20T13:00:45)", "UTC", true},
		{"rate(1 minute)", Config{Expression: str("rate(1 minute)")}, "rate(1 minute)", "UTC", false},
		{"rate(5 minutes)", Config{Expression: str("rate(5 minutes)")}, "rate(5 minutes)", "UTC", false},
		{"rate(1 hour)", Config{Expression: str("rate(1 hour)")}, "rate(1 hour)", "UTC", false},
		{"rate(1 day)", Config{Expression: str("rate(1 day)")}, "rate(1 day)", "UTC", false},
		{"rate(120 minutes) as hours", Config{Expression: str("rate(120 minutes)")}, "rate(2 hours)", "UTC", false},
		{"cron canonical", Config{Expression: str("cron(0  18 ? * mon-fri *)"), Timezone: str("Europe/Paris")}, "cron(0 18 ? * MON-FRI *)", "Europe/Paris", false},
		{"at with zone", Config{Expression: str("at(2026-11-20T13:00:00)"), Timezone: str("America/Los_Angeles")}, "at(2026-11-20T13:00:00)", "America/Los_Angeles", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.c, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Expression(); got != tc.expr {
				t.Errorf("Expression() = %q, want %q", got, tc.expr)
			}
			if got := s.ScheduleExpressionTimezone(); got != tc.tz {
				t.Errorf("ScheduleExpressionTimezone() = %q, want %q", got, tc.tz)
			}
			if got := s.Once(); got != tc.once {
				t.Errorf("Once() = %v, want %v", got, tc.once)
			}
		})
	}
}

// Rates and periods fire every interval from start, or from creation when
// there is no start; start and end are inclusive; days are 24 hours whatever
// the clocks do (AWS: "days represents a 24-hour duration").
func TestNextRateAndBounds(t *testing.T) {
	created := mustTime(t, "2026-01-01T00:00:30Z")
	start := mustTime(t, "2026-03-07T12:00:00-05:00")
	cases := []struct {
		name  string
		c     Config
		after string
		want  []string
		done  bool
	}{
		{"rate without start begins at creation", Config{Expression: str("rate(5 minutes)")}, "2025-12-31T23:00:00Z",
			[]string{"2026-01-01T00:00:30Z", "2026-01-01T00:05:30Z", "2026-01-01T00:10:30Z"}, false},
		{"rate from the middle of an interval", Config{Expression: str("rate(5 minutes)")}, "2026-01-01T01:02:00Z",
			[]string{"2026-01-01T01:05:30Z"}, false},
		{"period from start", Config{Period: i64(3600), Start: i64(start.Unix())}, "2026-01-01T00:00:00Z",
			[]string{"2026-03-07T17:00:00Z", "2026-03-07T18:00:00Z"}, false},
		{"rate(1 day) is 24 hours over spring-forward", Config{Expression: str("rate(1 day)"), Start: i64(start.Unix())}, "2026-03-07T00:00:00Z",
			[]string{"2026-03-07T12:00:00-05:00", "2026-03-08T13:00:00-04:00", "2026-03-09T13:00:00-04:00"}, false},
		{"start and end inclusive", Config{Expression: str("rate(1 hour)"), Start: i64(start.Unix()), End: i64(start.Add(2 * time.Hour).Unix())}, "2026-01-01T00:00:00Z",
			[]string{"2026-03-07T17:00:00Z", "2026-03-07T18:00:00Z", "2026-03-07T19:00:00Z"}, true},
		{"cron from start, inclusive", Config{Expression: str("cron(0 10 * * ? *)"), Start: i64(mustTime(t, "2026-01-02T10:00:00Z").Unix()), End: i64(mustTime(t, "2026-01-03T10:00:00Z").Unix())}, "2025-06-01T00:00:00Z",
			[]string{"2026-01-02T10:00:00Z", "2026-01-03T10:00:00Z"}, true},
		{"after end", Config{Expression: str("cron(0 10 * * ? *)"), End: i64(mustTime(t, "2026-01-03T10:00:00Z").Unix())}, "2026-01-03T10:00:00Z", nil, true},
		{"timestamp", Config{Timestamp: i64(1795179600)}, "2026-01-01T00:00:00Z", []string{"2026-11-20T13:00:00Z"}, true},
		{"rate after 2199", Config{Expression: str("rate(1 day)")}, "2199-12-31T00:00:31Z", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.c, created)
			if err != nil {
				t.Fatal(err)
			}
			after := mustTime(t, tc.after)
			for i, w := range tc.want {
				got, ok := s.Next(after)
				if want := mustTime(t, w); !ok || !got.Equal(want) {
					t.Fatalf("fire %d after %s: got %s (%v), want %s", i+1, after.Format(time.RFC3339), got.Format(time.RFC3339), ok, want.Format(time.RFC3339))
				}
				after = got
			}
			if got, ok := s.Next(after); ok == tc.done {
				t.Fatalf("after %s: got %s (%v), want more fires: %v", after.Format(time.RFC3339), got.Format(time.RFC3339), ok, !tc.done)
			}
		})
	}
}

func TestStartEndDates(t *testing.T) {
	s, err := New(Config{Period: i64(60), Start: i64(100), End: i64(200)}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s.StartDate(); !ok || got.Unix() != 100 {
		t.Errorf("StartDate() = %v, %v; want 100", got, ok)
	}
	if got, ok := s.EndDate(); !ok || got.Unix() != 200 {
		t.Errorf("EndDate() = %v, %v; want 200", got, ok)
	}
	s, err = New(Config{Period: i64(60)}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.StartDate(); ok {
		t.Error("StartDate() set without start")
	}
	if _, ok := s.EndDate(); ok {
		t.Error("EndDate() set without end")
	}
}

// A rate without start needs a creation time; a missing one is the
// caller's bug, not the client's.
func TestNewRateNeedsCreated(t *testing.T) {
	_, err := New(Config{Period: i64(60)}, time.Time{})
	if got := errs.CodeOf(err); got != errs.Internal {
		t.Fatalf("got %v (%s), want an internal error", err, got)
	}
}

func TestDecodeConfig(t *testing.T) {
	cases := []struct {
		name  string
		raw   string
		want  Config
		field string // "" when it decodes
		msg   string
	}{
		{name: "period", raw: `{"period": 3600}`, want: Config{Period: i64(3600)}},
		{name: "timestamp", raw: `{"timestamp": 1795179600}`, want: Config{Timestamp: i64(1795179600)}},
		{name: "everything", raw: `{"expression": "cron(0 10 * * ? *)", "timezone": "Europe/Paris", "start": 1, "end": 2}`,
			want: Config{Expression: str("cron(0 10 * * ? *)"), Timezone: str("Europe/Paris"), Start: i64(1), End: i64(2)}},
		{name: "null is absent", raw: `{"period": 60, "timestamp": null}`, want: Config{Period: i64(60)}},
		{name: "unknown key", raw: `{"period": 60, "every": 5}`, field: "config", msg: `unknown key "every"`},
		{name: "period as a string", raw: `{"period": "60"}`, field: "config.period", msg: `config.period must be a whole number of seconds, got "60"`},
		{name: "period with a fraction", raw: `{"period": 60.5}`, field: "config.period", msg: "got 60.5"},
		{name: "period too big", raw: `{"period": 99999999999999999999}`, field: "config.period", msg: "whole number of seconds"},
		{name: "expression as a number", raw: `{"expression": 5}`, field: "config.expression", msg: "config.expression must be a string, got 5"},
		{name: "not an object", raw: `[1]`, field: "config", msg: "config must be a JSON object"},
		{name: "null", raw: `null`, field: "config", msg: "config must be a JSON object"},
		{name: "trailing data", raw: `{} {}`, field: "config", msg: "config must be a JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeConfig([]byte(tc.raw))
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !sameConfig(got, tc.want) {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
				return
			}
			e := errs.As(err)
			if e == nil || e.Code != errs.Invalid || !strings.Contains(e.Message, tc.msg) || e.Fields[tc.field] == "" {
				t.Fatalf("got %v (fields %v), want an Invalid on %s containing %q", err, fieldsOf(e), tc.field, tc.msg)
			}
		})
	}
}

func fieldsOf(e *errs.Error) map[string]string {
	if e == nil {
		return nil
	}
	return e.Fields
}

func sameConfig(a, b Config) bool {
	eqI := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	eqS := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eqI(a.Period, b.Period) && eqI(a.Timestamp, b.Timestamp) && eqI(a.Start, b.Start) && eqI(a.End, b.End) &&
		eqS(a.Expression, b.Expression) && eqS(a.Timezone, b.Timezone)
}
