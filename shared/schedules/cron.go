package schedules

import (
	"strconv"
	"strings"
)

// field is one of cron's six fields: its name, its range and, for month
// and day-of-week, its names.
type field struct {
	name     string
	min, max int
	names    []string // names[i] is the value min+i
	cyclic   bool     // a range may wrap (20-2 in hours is 20..23,0..2)
}

var (
	minutesField = field{name: "minutes", min: 0, max: 59, cyclic: true}
	hoursField   = field{name: "hours", min: 0, max: 23, cyclic: true}
	domField     = field{name: "day-of-month", min: 1, max: 31, cyclic: true}
	monthField   = field{name: "month", min: 1, max: 12, cyclic: true,
		names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	// 1 is Sunday, as AWS numbers days.
	dowField = field{name: "day-of-week", min: 1, max: 7, cyclic: true,
		names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
	yearField = field{name: "year", min: minYear, max: maxYear}
)

// bits is a set of a field's values, bit v-min for value v (years need 230).
type bits [4]uint64

func (b *bits) set(i int)     { b[i/64] |= 1 << (i % 64) }
func (b bits) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }

// cron is a parsed cron expression. Exactly one of the day fields is ?
// (domAny or dowAny).
type cron struct {
	text                  string // canonical: cron(f1 f2 f3 f4 f5 f6)
	minutes, hours        bits
	months, years         bits
	domAny                bool
	domDays               uint32 // bit d for day d
	domLast               bool   // L: the last day of the month
	domNearest            int    // nW: the weekday nearest day n, 0 when unused
	dowAny                bool
	dowDays               uint8 // bit d for AWS day d (1 = Sunday)
	dowLast               int   // nL: the last day n of the month, 0 when unused
	dowNthDay, dowNthWeek int   // d#k: the k-th day d of the month, 0 when unused
}

// String is the canonical expression.
func (c *cron) String() string { return c.text }

// parseCron parses cron(minutes hours day-of-month month day-of-week year)
// with AWS's wildcards (docs/schedules.md lists what is accepted).
func parseCron(e string) (*cron, error) {
	fs := strings.Fields(strings.ToUpper(e[len("cron(") : len(e)-1]))
	if len(fs) != 6 {
		return nil, invalid("config.expression", "%s has %d fields; cron needs 6: minutes hours day-of-month month day-of-week year", clip(e), len(fs))
	}
	c := &cron{text: "cron(" + strings.Join(fs, " ") + ")"}
	p := parser{expr: c.text}
	c.minutes = p.list(minutesField, fs[0])
	c.hours = p.list(hoursField, fs[1])
	p.dom(c, fs[2])
	c.months = p.list(monthField, fs[3])
	p.dow(c, fs[4])
	c.years = p.list(yearField, fs[5])
	if p.err != nil {
		return nil, p.err
	}
	switch {
	case !c.domAny && !c.dowAny:
		return nil, invalid("config.expression", "%s: day-of-month %q and day-of-week %q are both set; one of them must be ? (if you specify a value or * in one, you must use ? in the other)", c.text, fs[2], fs[4])
	case c.domAny && c.dowAny:
		return nil, invalid("config.expression", "%s: day-of-month and day-of-week are both ?; one of them must be a value or *", c.text)
	}
	return c, nil
}

// parser keeps the first error of a cron expression's fields.
type parser struct {
	expr string
	err  error
}

// fail records a problem with token in f.
func (p *parser) fail(f field, token, format string, args ...any) {
	if p.err == nil {
		p.err = invalid("config.expression", "%s: %s %q: "+format, append([]any{p.expr, f.name, clip(token)}, args...)...)
	}
}

// list parses a list of values, ranges and increments: , - * / as AWS
// documents them. An increment applies to *, to a range, or to a single
// value meaning from it to the field's end (0/15 in minutes: 0,15,30,45).
func (p *parser) list(f field, s string) bits {
	var b bits
	if s == "?" {
		p.fail(f, s, "? is allowed only in day-of-month and day-of-week")
		return b
	}
	for _, part := range strings.Split(s, ",") {
		base, stepText, hasStep := strings.Cut(part, "/")
		lo, hi := f.min, f.max
		switch a, z, isRange := strings.Cut(base, "-"); {
		case base == "*":
		case isRange:
			lo, hi = p.value(f, a), p.value(f, z)
		default:
			lo = p.value(f, base)
			if !hasStep {
				hi = lo
			}
		}
		width := f.max - f.min + 1
		step := 1
		if hasStep {
			step = p.number(f, stepText, 1, width, "increment")
		}
		if p.err != nil {
			return b
		}
		if lo > hi && !f.cyclic {
			p.fail(f, part, "the range runs backwards")
			return b
		}
		span := (hi - lo + width) % width // wraps when lo > hi
		for i := 0; i <= span; i += step {
			b.set((lo - f.min + i) % width)
		}
	}
	return b
}

// value parses one value of f: a number in range or one of f's names.
func (p *parser) value(f field, s string) int {
	for i, n := range f.names {
		if s == n {
			return f.min + i
		}
	}
	return p.number(f, s, f.min, f.max, "value")
}

// number parses a decimal in [lo, hi].
func (p *parser) number(f field, s string, lo, hi int, what string) int {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil || s == "" || s[0] == '+' || s[0] == '-':
		if len(f.names) > 0 && what == "value" {
			p.fail(f, s, "not a number %d-%d or a name %s-%s", lo, hi, f.names[0], f.names[len(f.names)-1])
		} else {
			p.fail(f, s, "the %s is not a number %d-%d", what, lo, hi)
		}
	case n < lo || n > hi:
		p.fail(f, s, "the %s %d is out of range %d-%d", what, n, lo, hi)
	}
	return n
}

// dom parses day-of-month: ?, L (the last day), nW (the weekday nearest the
// n-th), or a list. L and W stand alone: AWS documents no L-n, LW or lists
// with them.
func (p *parser) dom(c *cron, s string) {
	switch {
	case s == "?":
		c.domAny = true
	case s == "L":
		c.domLast = true
	case strings.Contains(s, "#"):
		p.fail(domField, s, "# is allowed only in day-of-week")
	case strings.HasSuffix(s, "W"):
		if strings.ContainsAny(s, ",-*/L") || s == "W" {
			p.fail(domField, s, "W takes one day and stands alone (3W: the weekday nearest the 3rd)")
			return
		}
		c.domNearest = p.number(domField, s[:len(s)-1], 1, 31, "day")
	case strings.ContainsAny(s, "LW"):
		p.fail(domField, s, "L (the last day of the month) and nW (the weekday nearest day n) stand alone in the field")
	default:
		b := p.list(domField, s)
		c.domDays = uint32(b[0]) << 1
	}
}

// dow parses day-of-week: ?, L (Saturday, the last day of the week), nL
// (the last day n of the month), d#k (the k-th day d of the month), or a
// list. AWS's table gives day-of-week no / increment, and "#" admits one
// expression in the field.
func (p *parser) dow(c *cron, s string) {
	switch {
	case s == "?":
		c.dowAny = true
	case s == "L":
		c.dowDays = 1 << 7
	case strings.Contains(s, "#"):
		d, k, _ := strings.Cut(s, "#")
		if strings.ContainsAny(s, ",-*/L") || strings.Contains(k, "#") {
			p.fail(dowField, s, "# takes one day and one week and stands alone (3#2: the second Tuesday); 3#1,6#3 is two expressions")
			return
		}
		c.dowNthDay = p.value(dowField, d)
		c.dowNthWeek = p.number(dowField, k, 1, 5, "week")
	case strings.HasSuffix(s, "L"):
		if strings.ContainsAny(s, ",-*/") {
			p.fail(dowField, s, "nL takes one day and stands alone (6L: the last Friday of the month)")
			return
		}
		c.dowLast = p.value(dowField, s[:len(s)-1])
	case strings.Contains(s, "/"):
		p.fail(dowField, s, "/ is not allowed in day-of-week (AWS allows , - * ? L # there)")
	case strings.Contains(s, "W") && !strings.Contains(s, "WED"):
		p.fail(dowField, s, "W is allowed only in day-of-month")
	default:
		b := p.list(dowField, s)
		c.dowDays = uint8(b[0]) << 1
	}
}
