package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
)

// MaxBodyBytes caps request bodies.
const MaxBodyBytes = 1 << 20

// body returns the request body read (and capped) by the middleware.
func body(r *http.Request) []byte { return stateOf(r.Context()).body }

// decode reads the JSON body into v: JSON only, one object, unknown fields
// rejected (no mass assignment).
func decode(r *http.Request, v any) error {
	b := body(r)
	if len(bytes.TrimSpace(b)) == 0 {
		return errs.Field("Body", "A JSON object body is required.")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errs.E(errs.Unsupported, "Content-Type must be application/json.")
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeErr(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errs.Field("Body", "The body must hold exactly one JSON object.")
	}
	return nil
}

func decodeErr(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var own *errs.Error
	switch {
	case errors.As(err, &own): // a member's UnmarshalJSON names it (stack_id)
		return own
	case errors.As(err, &syn):
		return errs.Field("Body", fmt.Sprintf("Malformed JSON at offset %d.", syn.Offset))
	case errors.As(err, &typ):
		name := typ.Field
		if name == "" {
			return errs.Field("Body", "The body must be a JSON object.")
		}
		return errs.Field(name, fmt.Sprintf("%s must be a %s.", name, jsonKind(typ.Type.Kind().String())))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errs.Field(f, fmt.Sprintf("Unknown field %q.", f))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errs.Field("Body", "Truncated JSON.")
	}
	return errs.Field("Body", "Malformed JSON.")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return "number"
}

// page reads ContinuationToken and PageSize from the query.
func page(r *http.Request) (identity.Page, error) {
	q := r.URL.Query()
	p := identity.Page{Token: queryGet(q, "ContinuationToken")}
	if s := queryGet(q, "PageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return p, errs.Field("PageSize", "PageSize must be an integer from 1 to 100.")
		}
		p.Limit = n
	}
	return p, nil
}

// queryGet reads a query parameter by case-insensitive name.
func queryGet(q map[string][]string, name string) string {
	if v, ok := q[name]; ok && len(v) > 0 {
		return v[0]
	}
	for k, v := range q {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
