// Package errs is batchplane's one error type. Domain code returns *Error
// values with a Code; each API surface maps codes to its own status and
// shape in exactly one place, and anything without a code is internal: it is
// logged and the client is told only "Internal error.".
package errs

import (
	"errors"
	"fmt"
)

// Code classifies an error for the API surfaces.
type Code string

// Error codes.
const (
	Invalid          Code = "invalid"            // bad input: 400
	Unauthenticated  Code = "unauthenticated"    // no or bad credentials: 401
	Forbidden        Code = "forbidden"          // authenticated but not allowed: 403
	NotFound         Code = "not_found"          // missing or not visible to the caller: 404
	Conflict         Code = "conflict"           // state forbids it (duplicate, still referenced): 409
	TooLarge         Code = "too_large"          // body over the cap: 413
	Unsupported      Code = "unsupported"        // wrong content type: 415
	MethodNotAllowed Code = "method_not_allowed" // path exists, method does not: 405
	Unavailable      Code = "unavailable"        // a dependency is throttling or down: 503
	Internal         Code = "internal"           // a bug or an unexpected failure: 500
)

// Error is an error with a code, a message safe to show the client and,
// for Invalid, the offending fields.
type Error struct {
	Code    Code
	Message string
	// Fields maps a field name to what is wrong with it.
	Fields map[string]string
	// Err is the cause, never shown to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E builds an error with a code and a client-safe message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field builds an Invalid error naming one field.
func Field(field, message string) *Error {
	return &Error{Code: Invalid, Message: "The request is invalid.", Fields: map[string]string{field: message}}
}

// Fields collects field errors; its Err method returns nil when none were added.
type Fields map[string]string

// Add records a problem with field unless one is already recorded.
func (f Fields) Add(field, message string) {
	if _, ok := f[field]; !ok {
		f[field] = message
	}
}

// Err returns an Invalid error for the collected fields, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "The request is invalid.", Fields: map[string]string(f)}
}

// CodeOf returns the code of the first *Error in err's chain, Internal if
// there is none, and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return CodeOf(err) == code }

// NotFoundf is shorthand for a NotFound error.
func NotFoundf(format string, args ...any) *Error { return E(NotFound, format, args...) }
