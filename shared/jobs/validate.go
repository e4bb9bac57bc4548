package jobs

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/regions"
)

// appRules are one app's job rules; each app has its own validator.
type appRules struct {
	// required records the fields a new job of the app lacks.
	required func(f errs.Fields, in Input)
	// newConfig gives a new job its app configuration with defaults.
	newConfig func(j *Job, in Input)
	// validate checks in's fields of the app and sets the valid ones on j;
	// every problem names its field.
	validate func(f errs.Fields, j *Job, in Input)
}

// apps are the rules of each app a job can belong to.
var apps = map[string]appRules{
	AppASG: {required: requiredASG, newConfig: newASG, validate: validateASG},
	AppAMI: {required: requiredAMI, newConfig: newAMI, validate: validateAMI},
}

// validate checks in and sets it on j: the fields every job has, then the
// app's own.
func validate(j *Job, in Input) error {
	f := errs.Fields{}
	validateCommon(f, j, in)
	if a, ok := apps[j.App]; ok {
		a.validate(f, j, in)
	}
	return f.Err()
}

// required checks that a new job of app has what it needs.
func required(app string, in Input) error {
	f := errs.Fields{}
	if in.AccountID == nil || *in.AccountID == "" {
		f.Add("AccountId", "AccountId is required.")
	}
	if in.Name == nil {
		f.Add("Name", "Name is required.")
	}
	if a, ok := apps[app]; ok {
		a.required(f, in)
	}
	return f.Err()
}

// validateCommon checks the fields every job has (Batchly's).
func validateCommon(f errs.Fields, j *Job, in Input) {
	setString(f, &j.Name, in.Name, "Name", 128, true)
	setString(f, &j.SLA, in.SLA, "SLA", 64, false)
	setString(f, &j.InputLocation, in.InputLocation, "InputLocation", 1024, false)
	setString(f, &j.OutputLocation, in.OutputLocation, "OutputLocation", 1024, false)
	if in.ProjectID != nil {
		j.ProjectID = *in.ProjectID
	}
	if in.BaseRegion != nil {
		if !regions.Valid(*in.BaseRegion) {
			f.Add("BaseRegion", fmt.Sprintf("%q is not a known region.", *in.BaseRegion))
		} else {
			j.BaseRegion = *in.BaseRegion
		}
	}
}

// setString sets a trimmed string of at most maxLen characters (at least
// one when required).
func setString(f errs.Fields, dst *string, v *string, field string, maxLen int, required bool) {
	if v == nil {
		return
	}
	t := strings.TrimSpace(*v)
	if (required && t == "") || utf8.RuneCountInString(t) > maxLen {
		f.Add(field, fmt.Sprintf("%s must be %d to %d characters.", field, map[bool]int{true: 1}[required], maxLen))
		return
	}
	*dst = t
}

// setCount sets a count from 0 to 10000.
func setCount(f errs.Fields, dst *int, v *int, field string) {
	if v == nil {
		return
	}
	if *v < 0 || *v > 10000 {
		f.Add(field, field+" must be from 0 to 10000.")
		return
	}
	*dst = *v
}

// setFlag sets a flag.
func setFlag(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// setMatch sets a string that must match re (or, when empty is allowed, be empty).
func setMatch(f errs.Fields, dst *string, v *string, field string, re *regexp.Regexp, emptyOK bool, message string) {
	if v == nil {
		return
	}
	if !(emptyOK && *v == "") && !re.MatchString(*v) {
		f.Add(field, message)
		return
	}
	*dst = *v
}

// listLimit bounds a list: how many entries and how long each may be, so
// a job always fits in one DynamoDB item (400 KB) with room to spare.
type listLimit struct {
	entries, entryLen int
	re                *regexp.Regexp // nil: any entry
}

// setList sets a list within lim whose every entry matches lim.re.
func setList(f errs.Fields, dst *[]string, v *[]string, field string, lim listLimit) {
	if v == nil {
		return
	}
	if len(*v) > lim.entries {
		f.Add(field, fmt.Sprintf("%s must have at most %d entries.", field, lim.entries))
		return
	}
	for _, x := range *v {
		if len(x) > lim.entryLen || (lim.re != nil && !lim.re.MatchString(x)) {
			f.Add(field, fmt.Sprintf("%q is not a valid %s entry (at most %d characters).", truncate(x, 64), field, lim.entryLen))
			return
		}
	}
	*dst = *v
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
