package sigv4

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMalformedAuthorization(t *testing.T) {
	v := Verifier{Region: "us-east-1", Service: "execute-api"}
	ok := func(context.Context, string) (string, error) { return "secret", nil }
	good := "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("ab", 32)
	tests := []struct{ name, header, date string }{
		{"no credential", "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=00", "20260101T000000Z"},
		{"short credential", "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("ab", 32), "20260101T000000Z"},
		{"host unsigned", strings.Replace(good, "host;x-amz-date", "x-amz-date", 1), "20260101T000000Z"},
		{"date unsigned", strings.Replace(good, "host;x-amz-date", "host", 1), "20260101T000000Z"},
		{"unsorted headers", strings.Replace(good, "host;x-amz-date", "x-amz-date;host", 1), "20260101T000000Z"},
		{"bad signature hex", strings.Replace(good, strings.Repeat("ab", 32), "zz", 1), "20260101T000000Z"},
		{"wrong service", strings.Replace(good, "execute-api", "s3", 1), "20260101T000000Z"},
		{"bad date", good, "yesterday"},
		{"day mismatch", good, "20260102T000000Z"},
		{"duplicate field", good + ", Signature=00", "20260101T000000Z"},
		{"no fields", "AWS4-HMAC-SHA256 ", "20260101T000000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "http://x/api", nil)
			r.Header.Set("Authorization", tt.header)
			r.Header.Set("X-Amz-Date", tt.date)
			v.Now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
			if _, err := v.Verify(context.Background(), r, nil, ok); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// FuzzVerify: arbitrary Authorization headers, dates and paths never panic
// and are never accepted without the right signature.
func FuzzVerify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "20260101T000000Z", "/api/accounts")
	f.Add("AWS4-HMAC-SHA256 ,,,,", "", "/%zz")
	f.Fuzz(func(t *testing.T, auth, date, path string) {
		r, err := http.NewRequest("GET", "http://x/", nil)
		if err != nil {
			return
		}
		r.URL.RawPath, r.URL.Path = path, path
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Amz-Date", date)
		v := Verifier{Region: "us-east-1", Service: "execute-api", Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
		if _, err := v.Verify(context.Background(), r, nil, func(context.Context, string) (string, error) { return "secret", nil }); err == nil {
			t.Fatalf("accepted %q %q %q", auth, date, path)
		}
	})
}
