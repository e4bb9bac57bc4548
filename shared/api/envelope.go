package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"

	"github.com/batchplane/batchplane/shared/errs"
)

// field is one top-level member of an envelope, kept in the documented order.
type field struct {
	Key   string
	Value any
}

// envelope is a response body: its fields, written in order by writeJSON.
type envelope []field

// encoder writes envelopes into a pooled buffer: one pass, no intermediate
// documents, no allocation for the keys or the buffer per response.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	return e
}}

func newEncoder() *encoder { e := encoders.Get().(*encoder); e.buf.Reset(); return e }

func (e *encoder) free() {
	if e.buf.Cap() <= 64<<10 { // do not keep a huge page's buffer
		encoders.Put(e)
	}
}

// envelope writes {"Key":value,...} in order. Keys are the documented
// member names: identifiers that need no escaping.
func (e *encoder) envelope(fields envelope) error {
	e.buf.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		e.buf.WriteByte('"')
		e.buf.WriteString(f.Key)
		e.buf.WriteString(`":`)
		if f.Value == nil {
			e.buf.WriteString("null")
			continue
		}
		if err := e.enc.Encode(f.Value); err != nil { // escapes HTML as json.Marshal does
			return err
		}
		e.buf.Truncate(e.buf.Len() - 1) // Encode's newline
	}
	e.buf.WriteByte('}')
	return nil
}

// token renders a ContinuationToken: null when there is no next page.
func token(next string) any {
	if next == "" {
		return nil
	}
	return next
}

var noErrors = struct{}{}

// writeData writes the documented v1 envelope
// {"RequestId", "Data", "Errors", "ContinuationToken"}.
func writeData(w http.ResponseWriter, r *http.Request, status int, data any, next string) {
	writeJSON(w, r, status, envelope{
		{"RequestId", RequestID(r.Context())},
		{"Data", data},
		{"Errors", noErrors},
		{"ContinuationToken", token(next)},
	})
}

// writeNamed writes a v2 envelope whose payload sits under its own name
// ("Teams", "Team", "Success", "Users", "Job", ...), as seed 001 shows:
// lists carry a ContinuationToken, single objects do not.
func writeNamed(w http.ResponseWriter, r *http.Request, status int, name string, value any, list bool, next string) {
	e := envelope{{name, value}}
	if list {
		e = append(e, field{"ContinuationToken", token(next)})
	}
	e = append(e, field{"RequestId", RequestID(r.Context())}, field{"Errors", noErrors})
	writeJSON(w, r, status, e)
}

// writeJSON is the one response writer: the envelope, its status and
// content type.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, e envelope) {
	enc := newEncoder()
	defer enc.free()
	if err := enc.envelope(e); err != nil {
		slog.ErrorContext(r.Context(), "encode response", "err", err, "request_id", RequestID(r.Context()))
		status = http.StatusInternalServerError
		enc.buf.Reset()
		_ = enc.envelope(envelope{{"RequestId", RequestID(r.Context())}, {"Data", nil},
			{"Errors", map[string]string{"Error": "Internal error."}}, {"ContinuationToken", nil}})
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(enc.buf.Bytes())
}

var jsonContentType = []string{"application/json; charset=utf-8"}

// statusOf is the /api surface's one mapping from error codes to statuses.
var statusOf = map[errs.Code]int{
	errs.Invalid:          http.StatusBadRequest,
	errs.Unauthenticated:  http.StatusUnauthorized,
	errs.Forbidden:        http.StatusForbidden,
	errs.NotFound:         http.StatusNotFound,
	errs.Conflict:         http.StatusConflict,
	errs.TooLarge:         http.StatusRequestEntityTooLarge,
	errs.Unsupported:      http.StatusUnsupportedMediaType,
	errs.MethodNotAllowed: http.StatusMethodNotAllowed,
	errs.Unavailable:      http.StatusServiceUnavailable,
	errs.Internal:         http.StatusInternalServerError,
}

// writeError is the /api surface's one error writer: the documented envelope
// with Errors as a field→message map. Internal errors are logged and the
// client is told only "Internal error.".
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if sf := surfaceOf(r.URL.Path); sf != surfaceAPI {
		writeSurfaceError(w, r, sf, err)
		return
	}
	e := errs.As(err)
	code := errs.CodeOf(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var m map[string]string
	switch {
	case e == nil || code == errs.Internal:
		slog.ErrorContext(r.Context(), "internal error", "err", err, "request_id", RequestID(r.Context()),
			"method", r.Method, "path", r.URL.Path)
		m = map[string]string{"Error": "Internal error."}
	case len(e.Fields) > 0:
		m = e.Fields
	default:
		if e.Err != nil {
			slog.WarnContext(r.Context(), "request failed", "err", err, "request_id", RequestID(r.Context()))
		}
		m = map[string]string{"Error": e.Message}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `ApiKey realm="batchplane", AWS4-HMAC-SHA256`)
	}
	writeJSON(w, r, status, envelope{
		{"RequestId", RequestID(r.Context())},
		{"Data", nil},
		{"Errors", m},
		{"ContinuationToken", nil},
	})
}
