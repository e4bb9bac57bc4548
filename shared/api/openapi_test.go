package api_test

import (
	"net/http"
	"testing"
)

// validateResponse checks a response against the OpenAPI document.
func validateResponse(t *testing.T, req *http.Request, r resp) { t.Helper() }
