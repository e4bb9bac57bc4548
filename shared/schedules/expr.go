package schedules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// atLayout is at()'s yyyy-mm-ddThh:mm:ss.
const atLayout = "2006-01-02T15:04:05"

// rateUnits are rate()'s units, singular then plural, largest first.
var rateUnits = []struct {
	one, many string
	d         time.Duration
}{
	{"day", "days", 24 * time.Hour},
	{"hour", "hours", time.Hour},
	{"minute", "minutes", time.Minute},
}

// parseRate parses rate(value unit): value a positive integer, unit
// singular when value is 1 and plural otherwise, as AWS documents
// ("rate(1 hours) and rate(5 hour) aren't valid").
func parseRate(e string) (time.Duration, error) {
	parts := strings.Fields(e[len("rate(") : len(e)-1])
	if len(parts) != 2 {
		return 0, invalid("config.expression", "%s must be rate(value unit), two fields separated by a space, such as rate(5 minutes)", clip(e))
	}
	v, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || v < 1 || parts[0][0] == '+' {
		return 0, invalid("config.expression", "%s: the value %q must be a positive whole number", clip(e), clip(parts[0]))
	}
	for _, u := range rateUnits {
		switch parts[1] {
		case u.one, u.many:
			if v == 1 && parts[1] != u.one {
				return 0, invalid("config.expression", "%s: with the value 1 the unit must be singular (%s)", e, u.one)
			}
			if v > 1 && parts[1] != u.many {
				return 0, invalid("config.expression", "%s: with a value over 1 the unit must be plural (%s)", e, u.many)
			}
			if v > int64(maxInterval/u.d) {
				return 0, invalid("config.expression", "%s is longer than %d days", e, int64(maxInterval/(24*time.Hour)))
			}
			return time.Duration(v) * u.d, nil
		}
	}
	return 0, invalid("config.expression", "%s: the unit %q is not one of minute, minutes, hour, hours, day, days", clip(e), clip(parts[1]))
}

// rateExpression writes d (a whole number of minutes) as rate() in the
// largest unit that divides it.
func rateExpression(d time.Duration) string {
	for _, u := range rateUnits {
		if d%u.d == 0 {
			n := int64(d / u.d)
			if n == 1 {
				return "rate(1 " + u.one + ")"
			}
			return fmt.Sprintf("rate(%d %s)", n, u.many)
		}
	}
	panic("schedules: rate not a whole number of minutes") // parseRate and setPeriod make minutes
}

// parseAt parses at(yyyy-mm-ddThh:mm:ss) in loc. A wall time that loc skips
// (a daylight saving gap) is refused: EventBridge Scheduler skips cron fires
// that fall there, and a one-time schedule that silently never runs would
// be worse than a 400. A wall time loc repeats is its first occurrence.
func parseAt(e string, loc *time.Location) (time.Time, error) {
	body := e[len("at(") : len(e)-1]
	w, err := time.Parse(atLayout, body)
	if err != nil || len(body) != len(atLayout) {
		return time.Time{}, invalid("config.expression", "%s is not at(yyyy-mm-ddThh:mm:ss) with a real date and time, such as at(2026-11-20T13:00:00)", clip(e))
	}
	if w.Year() < minYear || w.Year() > maxYear {
		return time.Time{}, invalid("config.expression", "%s: the year %d is out of range %d-%d", e, w.Year(), minYear, maxYear)
	}
	t, ok := wallTime(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), loc)
	if !ok {
		return time.Time{}, invalid("config.expression", "%s does not exist in %s: the clocks skip it (daylight saving time)", e, loc)
	}
	return t.Add(time.Duration(w.Second()) * time.Second), nil
}

// configKeys are the keys a config may have.
var configKeys = map[string]func(*Config, json.RawMessage) error{
	"period":     func(c *Config, v json.RawMessage) error { return intKey("period", v, &c.Period) },
	"timestamp":  func(c *Config, v json.RawMessage) error { return intKey("timestamp", v, &c.Timestamp) },
	"start":      func(c *Config, v json.RawMessage) error { return intKey("start", v, &c.Start) },
	"end":        func(c *Config, v json.RawMessage) error { return intKey("end", v, &c.End) },
	"expression": func(c *Config, v json.RawMessage) error { return stringKey("expression", v, &c.Expression) },
	"timezone":   func(c *Config, v json.RawMessage) error { return stringKey("timezone", v, &c.Timezone) },
}

// DecodeConfig reads a config from its JSON object. An unknown key is
// refused (writes reject unknown fields); a key whose value is null is
// absent. Errors are errs.Invalid and name the key.
func DecodeConfig(raw []byte) (Config, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return Config{}, invalid("config", "config must be a JSON object such as {\"period\": 3600}")
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names) // the first problem reported does not depend on map order
	var c Config
	for _, k := range names {
		set, ok := configKeys[k]
		if !ok {
			return Config{}, invalid("config", "config has an unknown key %q; the keys are period, timestamp, expression, timezone, start, end", clip(k))
		}
		if string(m[k]) == "null" {
			continue
		}
		if err := set(&c, m[k]); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

// intKey decodes a whole number of seconds.
func intKey(key string, v json.RawMessage, dst **int64) error {
	var n json.Number
	// json.Number also takes a quoted number ("60"); Kragle's are numbers.
	if err := json.Unmarshal(v, &n); err == nil && v[0] != '"' {
		if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			*dst = &i
			return nil
		}
	}
	return invalid("config."+key, "config.%s must be a whole number of seconds, got %s", key, clip(string(v)))
}

// stringKey decodes a string.
func stringKey(key string, v json.RawMessage, dst **string) error {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return invalid("config."+key, "config.%s must be a string, got %s", key, clip(string(v)))
	}
	*dst = &s
	return nil
}
