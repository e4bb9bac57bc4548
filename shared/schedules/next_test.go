package schedules

import (
	"testing"
	"time"
)

// The examples come from AWS's documentation:
//   - EventBridge Scheduler, "Schedule types on EventBridge Scheduler"
//     https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
//     (rate(5 minutes); cron(15 10 ? * 6L 2022-2023); at(2022-11-20T13:00:00)
//     in America/Los_Angeles; cron(30 8 * * ? *) in America/New_York; the
//     wildcard descriptions (1/10, 1-15, JAN,FEB,MAR, 3W, 3#2); and the
//     daylight saving example, cron(30 2 * * ? *) in America/Los_Angeles:
//     skipped on the spring-forward day, run "only once at 2:30 a.m. before
//     the shift" when a time repeats)
//   - EventBridge, "Cron expressions" / "Rate expressions" for scheduled rules
//     https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
//     https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-rule-schedule.html
//     (the examples table, the put-rule examples, the rate examples)
//   - the same DST behaviour restated in
//     https://repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst
//
// Every expected time was worked out by hand from the semantics and a
// calendar of the month (2026-01-01 is a Thursday), not by running the code.
// New York: EST (-05:00) until 2026-03-08 02:00, then EDT (-04:00) until
// 2026-11-01 02:00, when 01:00-01:59 repeats; Los Angeles likewise with PST
// (-08:00) and PDT (-07:00). Sydney: AEDT (+11:00) until 2026-04-05 03:00,
// then AEST (+10:00), when 02:00-02:59 repeats.
var nextCases = []struct {
	name  string
	expr  string
	tz    string
	after string
	want  []string // the next fires, each strictly after the one before
	done  bool     // after the last of want there is no fire
}{
	// EventBridge's examples table (the Scheduler page lists the same ones).
	{name: "10:00 every day", expr: "cron(0 10 * * ? *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z", "2026-01-03T10:00:00Z"}},
	{name: "strictly after a fire", expr: "cron(0 10 * * ? *)", after: "2026-01-01T10:00:00Z",
		want: []string{"2026-01-02T10:00:00Z"}},
	{name: "12:15 every day", expr: "cron(15 12 * * ? *)", after: "2026-01-01T12:14:59Z",
		want: []string{"2026-01-01T12:15:00Z", "2026-01-02T12:15:00Z"}},
	{name: "18:00 Monday to Friday", expr: "cron(0 18 ? * MON-FRI *)", after: "2026-01-01T18:00:00Z",
		want: []string{"2026-01-02T18:00:00Z", "2026-01-05T18:00:00Z", "2026-01-06T18:00:00Z"}},
	{name: "08:00 on the 1st", expr: "cron(0 8 1 * ? *)", after: "2026-01-01T08:00:00Z",
		want: []string{"2026-02-01T08:00:00Z", "2026-03-01T08:00:00Z", "2026-04-01T08:00:00Z"}},
	{name: "every 15 minutes", expr: "cron(0/15 * * * ? *)", after: "2026-12-31T23:50:00Z",
		want: []string{"2027-01-01T00:00:00Z", "2027-01-01T00:15:00Z", "2027-01-01T00:30:00Z"}},
	{name: "every 10 minutes Monday to Friday", expr: "cron(0/10 * ? * MON-FRI *)", after: "2026-01-02T23:45:00Z",
		want: []string{"2026-01-02T23:50:00Z", "2026-01-05T00:00:00Z", "2026-01-05T00:10:00Z"}},
	{name: "every 5 minutes 8:00-17:55 Monday to Friday", expr: "cron(0/5 8-17 ? * MON-FRI *)", after: "2026-01-02T17:50:00Z",
		want: []string{"2026-01-02T17:55:00Z", "2026-01-05T08:00:00Z", "2026-01-05T08:05:00Z"}},
	// AWS's prose for this one reads "from 10:00 pm on the starting day to
	// 2:00 am"; the fields say hours 20-2 (8 pm to 2 am, the range wrapping)
	// on Monday to Friday, each field on its own, so 02:30 fires and Saturday
	// 00:00 does not.
	{name: "every 30 minutes, hours 20-2 wrapping", expr: "cron(0/30 20-2 ? * MON-FRI *)", after: "2026-01-02T01:45:00Z",
		want: []string{"2026-01-02T02:00:00Z", "2026-01-02T02:30:00Z", "2026-01-02T20:00:00Z"}},
	{name: "hours 20-2 skip the weekend", expr: "cron(0/30 20-2 ? * MON-FRI *)", after: "2026-01-02T23:45:00Z",
		want: []string{"2026-01-05T00:00:00Z", "2026-01-05T00:30:00Z"}},
	// The put-rule examples.
	{name: "12:00 every day", expr: "cron(0 12 * * ? *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z"}},
	{name: "14:05 and 14:35", expr: "cron(5,35 14 * * ? *)", after: "2026-01-01T14:05:00Z",
		want: []string{"2026-01-01T14:35:00Z", "2026-01-02T14:05:00Z", "2026-01-02T14:35:00Z"}},
	{name: "last Friday 2019-2022", expr: "cron(15 10 ? * 6L 2019-2022)", after: "2019-12-01T00:00:00Z",
		want: []string{"2019-12-27T10:15:00Z", "2020-01-31T10:15:00Z", "2020-02-28T10:15:00Z"}},
	{name: "last Friday 2019-2022 ends", expr: "cron(15 10 ? * 6L 2019-2022)", after: "2022-12-01T00:00:00Z",
		want: []string{"2022-12-30T10:15:00Z"}, done: true},
	// The Scheduler page's create-schedule examples.
	{name: "Scheduler: last Friday 2022-2023", expr: "cron(15 10 ? * 6L 2022-2023)", after: "2022-12-01T00:00:00Z",
		want: []string{"2022-12-30T10:15:00Z", "2023-01-27T10:15:00Z", "2023-02-24T10:15:00Z"}},
	{name: "Scheduler: last Friday 2022-2023 ends", expr: "cron(15 10 ? * 6L 2022-2023)", after: "2023-12-01T00:00:00Z",
		want: []string{"2023-12-29T10:15:00Z"}, done: true},
	{name: "Scheduler: 08:30 in New York", expr: "cron(30 8 * * ? *)", tz: "America/New_York", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-01T08:30:00-05:00", "2026-01-02T08:30:00-05:00"}},
	// The Scheduler page's # example and the wildcard descriptions.
	{name: "first Monday", expr: "cron(0 9 ? * 2#1 *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-05T09:00:00Z", "2026-02-02T09:00:00Z", "2026-03-02T09:00:00Z"}},
	{name: "second Tuesday (3#2)", expr: "cron(0 0 ? * 3#2 *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-13T00:00:00Z", "2026-02-10T00:00:00Z", "2026-03-10T00:00:00Z"}},
	{name: "fifth Thursday only where there is one", expr: "cron(0 0 ? * 5#5 *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-29T00:00:00Z", "2026-04-30T00:00:00Z"}},
	{name: "every tenth minute from the first (1/10)", expr: "cron(1/10 * * * ? *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-01T00:01:00Z", "2026-01-01T00:11:00Z", "2026-01-01T00:21:00Z"}},
	{name: "range with increment, hours wrapping", expr: "cron(10-40/15 22-2/2 * * ? *)", after: "2026-01-01T21:00:00Z",
		want: []string{"2026-01-01T22:10:00Z", "2026-01-01T22:25:00Z", "2026-01-01T22:40:00Z", "2026-01-02T00:10:00Z", "2026-01-02T00:25:00Z", "2026-01-02T00:40:00Z", "2026-01-02T02:10:00Z"}},
	{name: "*/20", expr: "cron(*/20 9 * * ? *)", after: "2026-01-01T09:00:00Z",
		want: []string{"2026-01-01T09:20:00Z", "2026-01-01T09:40:00Z", "2026-01-02T09:00:00Z"}},
	{name: "days 1-15", expr: "cron(0 0 1-15 * ? *)", after: "2026-01-14T12:00:00Z",
		want: []string{"2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z", "2026-02-02T00:00:00Z"}},
	{name: "JAN,FEB,MAR", expr: "cron(0 0 1 JAN,FEB,MAR ? *)", after: "2026-02-15T00:00:00Z",
		want: []string{"2026-03-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
	// L in day-of-month: the last day.
	{name: "last day of the month", expr: "cron(0 0 L * ? *)", after: "2026-01-31T00:00:00Z",
		want: []string{"2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"}},
	{name: "last day in a leap year", expr: "cron(0 0 L 2 ? *)", after: "2027-03-01T00:00:00Z",
		want: []string{"2028-02-29T00:00:00Z", "2029-02-28T00:00:00Z"}},
	// L in day-of-week: nL is the last day n of the month, L alone Saturday.
	{name: "last Friday (6L)", expr: "cron(0 0 ? * 6L *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-27T00:00:00Z"}},
	{name: "L alone is Saturday", expr: "cron(0 6 ? * L *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-03T06:00:00Z", "2026-01-10T06:00:00Z"}},
	// W: the weekday nearest, within the month.
	{name: "3W", expr: "cron(0 8 3W * ? *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-02T08:00:00Z", "2026-02-03T08:00:00Z", "2026-03-03T08:00:00Z"}},
	{name: "3W on a Sunday is Monday", expr: "cron(0 8 3W * ? *)", after: "2026-04-15T00:00:00Z",
		want: []string{"2026-05-04T08:00:00Z", "2026-06-03T08:00:00Z"}},
	{name: "1W on a Saturday is Monday the 3rd", expr: "cron(0 12 1W * ? *)", after: "2026-07-15T00:00:00Z",
		want: []string{"2026-08-03T12:00:00Z", "2026-09-01T12:00:00Z"}},
	{name: "1W on a Sunday is Monday the 2nd", expr: "cron(0 12 1W * ? *)", after: "2026-01-31T00:00:00Z",
		want: []string{"2026-02-02T12:00:00Z", "2026-03-02T12:00:00Z", "2026-04-01T12:00:00Z"}},
	{name: "15W on Saturday and Sunday", expr: "cron(0 12 15W * ? *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-15T12:00:00Z", "2026-02-16T12:00:00Z", "2026-03-16T12:00:00Z"}},
	{name: "31W: last-day Sunday is Friday, short months none", expr: "cron(0 0 31W * ? *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-30T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-29T00:00:00Z"}},
	// Day-of-week numbers (1 = Sunday) and names; month wrap; the year field.
	{name: "day-of-week 1,7 is Sunday and Saturday", expr: "cron(0 6 ? * 1,7 *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-01-03T06:00:00Z", "2026-01-04T06:00:00Z", "2026-01-10T06:00:00Z"}},
	{name: "day-of-week 2-6 is Monday to Friday", expr: "cron(0 6 ? * 2-6 *)", after: "2026-01-02T07:00:00Z",
		want: []string{"2026-01-05T06:00:00Z", "2026-01-06T06:00:00Z"}},
	{name: "day-of-week FRI-MON wraps", expr: "cron(0 6 ? * FRI-MON *)", after: "2026-01-05T07:00:00Z",
		want: []string{"2026-01-09T06:00:00Z", "2026-01-10T06:00:00Z", "2026-01-11T06:00:00Z", "2026-01-12T06:00:00Z", "2026-01-16T06:00:00Z"}},
	{name: "months NOV-FEB wrap", expr: "cron(0 0 1 NOV-FEB ? *)", after: "2026-10-15T00:00:00Z",
		want: []string{"2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", "2027-11-01T00:00:00Z"}},
	{name: "years 2027-2028", expr: "cron(0 0 1 JAN,JUL ? 2027-2028)", after: "2026-01-01T00:00:00Z",
		want: []string{"2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z", "2028-01-01T00:00:00Z", "2028-07-01T00:00:00Z"}, done: true},
	{name: "years every 10 from 2030", expr: "cron(0 0 1 1 ? 2030/10)", after: "2026-01-01T00:00:00Z",
		want: []string{"2030-01-01T00:00:00Z", "2040-01-01T00:00:00Z", "2050-01-01T00:00:00Z"}},
	{name: "the last year is 2199", expr: "cron(0 0 1 1 ? *)", after: "2199-01-01T00:00:00Z", done: true},
	{name: "29 February", expr: "cron(0 0 29 2 ? *)", after: "2026-01-01T00:00:00Z",
		want: []string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
	{name: "30 February never", expr: "cron(0 0 30 2 ? *)", after: "2026-01-01T00:00:00Z", done: true},
	{name: "names in lower case", expr: "cron(0 18 ? * mon-fri *)", after: "2026-01-02T18:00:00Z",
		want: []string{"2026-01-05T18:00:00Z"}},
	{name: "before 1970 starts in 1970", expr: "cron(0 0 1 1 ? *)", after: "1900-06-01T00:00:00Z",
		want: []string{"1970-01-01T00:00:00Z", "1971-01-01T00:00:00Z"}},

	// Time zones: the fields are wall-clock time in the zone.
	{name: "10:00 in New York, winter then summer", expr: "cron(0 10 * * ? *)", tz: "America/New_York", after: "2026-03-07T00:00:00Z",
		want: []string{"2026-03-07T10:00:00-05:00", "2026-03-08T10:00:00-04:00"}},
	// The Scheduler page's DST example: cron(30 2 * * ? *) in Los Angeles.
	{name: "Scheduler DST example: spring-forward day skipped", expr: "cron(30 2 * * ? *)", tz: "America/Los_Angeles", after: "2026-03-07T00:00:00-08:00",
		want: []string{"2026-03-07T02:30:00-08:00", "2026-03-09T02:30:00-07:00"}},
	{name: "Scheduler DST example: fall-back day once", expr: "cron(30 2 * * ? *)", tz: "America/Los_Angeles", after: "2026-10-31T12:00:00-07:00",
		want: []string{"2026-11-01T02:30:00-08:00", "2026-11-02T02:30:00-08:00"}},
	// In Los Angeles the hour that repeats is 01:00-01:59: 01:30 runs once,
	// before the shift (PDT), not again after it.
	{name: "Scheduler DST example: the repeated time runs before the shift", expr: "cron(30 1 * * ? *)", tz: "America/Los_Angeles", after: "2026-10-31T12:00:00-07:00",
		want: []string{"2026-11-01T01:30:00-07:00", "2026-11-02T01:30:00-08:00"}},
	// Spring forward: 02:30 does not exist on 2026-03-08, so it is skipped.
	{name: "02:30 daily, spring-forward day skipped", expr: "cron(30 2 * * ? *)", tz: "America/New_York", after: "2026-03-07T00:00:00-05:00",
		want: []string{"2026-03-07T02:30:00-05:00", "2026-03-09T02:30:00-04:00"}},
	{name: "every 30 minutes over the spring gap", expr: "cron(0/30 * * * ? *)", tz: "America/New_York", after: "2026-03-08T01:15:00-05:00",
		want: []string{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"}},
	// Fall back: 02:30 on 2026-11-01 exists once (EST); 01:30 exists twice
	// and fires once, at the first (EDT).
	{name: "02:30 daily over fall-back", expr: "cron(30 2 * * ? *)", tz: "America/New_York", after: "2026-10-31T00:00:00-04:00",
		want: []string{"2026-10-31T02:30:00-04:00", "2026-11-01T02:30:00-05:00", "2026-11-02T02:30:00-05:00"}},
	{name: "01:30 daily fires once on fall-back day", expr: "cron(30 1 * * ? *)", tz: "America/New_York", after: "2026-10-31T12:00:00-04:00",
		want: []string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
	{name: "every 30 minutes over fall-back: the repeated hour does not fire again", expr: "cron(0/30 * * * ? *)", tz: "America/New_York", after: "2026-11-01T00:45:00-04:00",
		want: []string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00"}},
	{name: "from inside the repeated hour", expr: "cron(0/30 * * * ? *)", tz: "America/New_York", after: "2026-11-01T01:15:00-05:00",
		want: []string{"2026-11-01T02:00:00-05:00"}},
	{name: "Sydney 02:30 on fall-back day fires at the first (AEDT)", expr: "cron(30 2 * * ? *)", tz: "Australia/Sydney", after: "2026-04-04T12:00:00+11:00",
		want: []string{"2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"}},

	// at(): the Scheduler page's one-time example, in its time zone.
	{name: "Scheduler: at in Los Angeles", expr: "at(2022-11-20T13:00:00)", tz: "America/Los_Angeles", after: "2022-01-01T00:00:00Z",
		want: []string{"2022-11-20T13:00:00-08:00"}, done: true},
	{name: "at in Los Angeles, 2026", expr: "at(2026-11-20T13:00:00)", tz: "America/Los_Angeles", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-11-20T21:00:00Z"}, done: true},
	{name: "at already past", expr: "at(2026-11-20T13:00:00)", after: "2026-11-20T13:00:00Z", done: true},
	{name: "at in the repeated hour is the first", expr: "at(2026-11-01T01:30:00)", tz: "America/New_York", after: "2026-01-01T00:00:00Z",
		want: []string{"2026-11-01T01:30:00-04:00"}, done: true},
}

func TestNextAWSExamples(t *testing.T) {
	created := mustTime(t, "2026-01-01T00:00:00Z")
	for _, tc := range nextCases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Expression: &tc.expr}
			if tc.tz != "" {
				c.Timezone = &tc.tz
			}
			s, err := New(c, created)
			if err != nil {
				t.Fatalf("New(%s): %v", tc.expr, err)
			}
			after := mustTime(t, tc.after)
			for i, w := range tc.want {
				got, ok := s.Next(after)
				if want := mustTime(t, w); !ok || !got.Equal(want) {
					t.Fatalf("fire %d after %s: got %s (%v), want %s", i+1, after.Format(time.RFC3339), got.Format(time.RFC3339), ok, want.Format(time.RFC3339))
				}
				after = got
			}
			got, ok := s.Next(after)
			if tc.done && ok {
				t.Fatalf("after %s: got %s, want no more fires", after.Format(time.RFC3339), got.Format(time.RFC3339))
			}
			if !tc.done && !ok {
				t.Fatalf("after %s: no more fires, want one", after.Format(time.RFC3339))
			}
		})
	}
}

// mustTime parses an RFC 3339 time.
func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}
