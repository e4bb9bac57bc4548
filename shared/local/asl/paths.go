package asl

import (
	"encoding/json"
	"strings"
)

func contextObject(exec, state, token string) map[string]any {
	c := map[string]any{
		"Execution": map[string]any{"Name": exec, "Id": "local:" + exec},
		"State":     map[string]any{"Name": state},
	}
	if token != "" {
		c["Task"] = map[string]any{"Token": token}
	}
	return c
}

// render evaluates a Parameters or ResultSelector template.
func render(tmpl json.RawMessage, input json.RawMessage, ctxObj map[string]any) (json.RawMessage, error) {
	if tmpl == nil {
		return input, nil
	}
	var t any
	if err := json.Unmarshal(tmpl, &t); err != nil {
		return nil, err
	}
	var in any
	_ = json.Unmarshal(input, &in)
	v, err := renderValue(t, in, ctxObj)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func renderValue(t any, in any, ctxObj map[string]any) (any, error) {
	switch v := t.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if strings.HasSuffix(k, ".$") {
				path, ok := x.(string)
				if !ok {
					return nil, &taskError{name: "States.Runtime", cause: k + " is not a path"}
				}
				root := in
				if strings.HasPrefix(path, "$$") {
					root, path = ctxObj, path[1:]
				}
				val, err := lookup(root, path)
				if err != nil {
					return nil, err
				}
				out[strings.TrimSuffix(k, ".$")] = val
				continue
			}
			r, err := renderValue(x, in, ctxObj)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := renderValue(x, in, ctxObj)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return t, nil
}

// lookup evaluates a reference path ($, $.a.b) on v.
func lookup(v any, path string) (any, error) {
	if path == "$" {
		return v, nil
	}
	rest, ok := strings.CutPrefix(path, "$.")
	if !ok {
		return nil, &taskError{name: "States.Runtime", cause: "unsupported path " + path}
	}
	cur := v
	for _, part := range strings.Split(rest, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, &taskError{name: "States.Runtime", cause: "path " + path + " does not exist"}
		}
		if cur, ok = m[part]; !ok {
			return nil, &taskError{name: "States.Runtime", cause: "path " + path + " does not exist"}
		}
	}
	return cur, nil
}

func applyPath(v json.RawMessage, path *string) (json.RawMessage, error) {
	if path == nil || *path == "$" {
		return v, nil
	}
	var in any
	_ = json.Unmarshal(v, &in)
	out, err := lookup(in, *path)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// applyResultPath places result into input at path (null keeps the input).
func applyResultPath(input, result json.RawMessage, path *string, null bool) (json.RawMessage, error) {
	if null {
		return input, nil
	}
	if path == nil || *path == "$" {
		return result, nil
	}
	rest, ok := strings.CutPrefix(*path, "$.")
	if !ok {
		return nil, &taskError{name: "States.Runtime", cause: "unsupported ResultPath " + *path}
	}
	var in map[string]any
	if err := json.Unmarshal(input, &in); err != nil || in == nil {
		in = map[string]any{}
	}
	var res any
	_ = json.Unmarshal(result, &res)
	parts := strings.Split(rest, ".")
	cur := in
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[parts[len(parts)-1]] = res
	return json.Marshal(in)
}

func match(input json.RawMessage, c ChoiceRule) bool {
	var in any
	_ = json.Unmarshal(input, &in)
	v, err := lookup(in, c.Variable)
	switch {
	case c.IsPresent != nil:
		return (err == nil) == *c.IsPresent
	case err != nil:
		return false
	case c.StringEquals != nil:
		s, ok := v.(string)
		return ok && s == *c.StringEquals
	case c.BooleanEquals != nil:
		b, ok := v.(bool)
		return ok && b == *c.BooleanEquals
	}
	return false
}
