package schedules

import "time"

// next is the first fire of c strictly after after and not after limit,
// reading the fields as wall-clock time in loc. Across daylight saving
// changes it does what EventBridge Scheduler documents: a wall time the
// clocks skip does not fire, and a wall time they repeat fires once, at its
// first occurrence.
//
// It walks days, not minutes: years, months and days that cannot match are
// skipped whole, and a matching day yields its first matching minute, so an
// expression that never fires (cron(0 0 30 FEB ? *)) costs one pass over
// the months up to 2199.
func (c *cron) next(after time.Time, loc *time.Location, limit time.Time) (time.Time, bool) {
	a := after.In(loc)
	y0, m0, d0 := a.Date()
	h0, min0 := a.Hour(), a.Minute()
	if y0 < minYear {
		y0, m0, d0, h0, min0 = minYear, time.January, 1, 0, 0
	}
	for y := y0; y <= maxYear; y++ {
		if !c.years.has(y - minYear) {
			continue
		}
		mStart := time.January
		if y == y0 {
			mStart = m0
		}
		for m := mStart; m <= time.December; m++ {
			if !c.months.has(int(m) - 1) {
				continue
			}
			if time.Date(y, m, 1, 0, 0, 0, 0, loc).After(limit) {
				return time.Time{}, false
			}
			days := c.days(y, m)
			dStart := 1
			if y == y0 && m == m0 {
				dStart = d0
			}
			for d := dStart; d <= 31; d++ {
				if days&(1<<d) == 0 {
					continue
				}
				first := y == y0 && m == m0 && d == d0
				if t, ok := c.onDay(y, m, d, first, h0, min0, after, loc); ok {
					return t, !t.After(limit)
				}
			}
		}
	}
	return time.Time{}, false
}

// onDay is the first fire on day y-m-d after after. On the first day of the
// search, wall times before after's (h0:min0) are not tried: a wall time's
// first occurrence is never later than a later wall time's.
func (c *cron) onDay(y int, m time.Month, d int, first bool, h0, min0 int, after time.Time, loc *time.Location) (time.Time, bool) {
	for h := 0; h < 24; h++ {
		if !c.hours.has(h) || first && h < h0 {
			continue
		}
		for mi := 0; mi < 60; mi++ {
			if !c.minutes.has(mi) || first && h == h0 && mi < min0 {
				continue
			}
			if t, ok := wallTime(y, m, d, h, mi, loc); ok && t.After(after) {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// days is the set of days of y-m that the day fields match, bit d for day d.
func (c *cron) days(y int, m time.Month) uint32 {
	dim := daysIn(y, m)
	wd1 := int(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday()) // 0 = Sunday
	weekday := func(d int) int { return (wd1 + d - 1) % 7 }
	all := uint32(1)<<(dim+1) - 2 // days 1..dim
	if !c.domAny {
		switch {
		case c.domLast:
			return 1 << dim
		case c.domNearest > 0:
			if c.domNearest > dim {
				return 0 // 31W in April: no such day, as 31 alone
			}
			return 1 << nearestWeekday(c.domNearest, dim, weekday)
		}
		return c.domDays & all
	}
	switch {
	case c.dowNthWeek > 0:
		d := 1 + (c.dowNthDay-1-wd1+7)%7 + 7*(c.dowNthWeek-1)
		if d > dim {
			return 0 // 2#5 in a month with four Mondays
		}
		return 1 << d
	case c.dowLast > 0:
		return 1 << (dim - (weekday(dim)-(c.dowLast-1)+7)%7)
	}
	var out uint32
	for d := 1; d <= dim; d++ {
		if c.dowDays&(1<<(weekday(d)+1)) != 0 {
			out |= 1 << d
		}
	}
	return out
}

// nearestWeekday is the Monday-to-Friday day nearest day n, without leaving
// the month (Quartz's W, which AWS's cron follows): a Saturday moves back to
// Friday unless it is the 1st (then Monday the 3rd), a Sunday moves on to
// Monday unless it is the last day (then Friday).
func nearestWeekday(n, dim int, weekday func(int) int) int {
	switch weekday(n) {
	case 6:
		if n == 1 {
			return 3
		}
		return n - 1
	case 0:
		if n == dim {
			return n - 2
		}
		return n + 1
	}
	return n
}

// daysIn is the number of days of y-m.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// wallTime is the first instant whose wall clock in loc reads y-m-d h:mi,
// and false when the clocks skip that time (a daylight saving gap).
func wallTime(y int, m time.Month, d, h, mi int, loc *time.Location) (time.Time, bool) {
	same := func(t time.Time) bool {
		ty, tm, td := t.Date()
		return ty == y && tm == m && td == d && t.Hour() == h && t.Minute() == mi
	}
	t := time.Date(y, m, d, h, mi, 0, 0, loc)
	if !same(t) {
		return time.Time{}, false
	}
	// time.Date does not promise which of a repeated time's two instants it
	// gives; try the offsets in force a day and a half either side.
	wall := time.Date(y, m, d, h, mi, 0, 0, time.UTC).Unix()
	for _, probe := range [2]time.Time{t.Add(-36 * time.Hour), t.Add(36 * time.Hour)} {
		_, off := probe.Zone()
		if c := time.Unix(wall-int64(off), 0).In(loc); c.Before(t) && same(c) {
			t = c
		}
	}
	return t, true
}
