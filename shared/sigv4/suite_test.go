package sigv4

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Requests and signatures of AWS's published SigV4 test suite
// (awslabs/aws-c-auth tests/aws-signing-test-suite/v4, header-signed-request.txt
// of each case): credentials AKIDEXAMPLE, region us-east-1, service
// "service", signed at 2015-08-30T12:36:00Z.
var suite = []struct{ name, request string }{
	{"get-vanilla-query-order-key-case", "GET /?Param2=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500\nX-Amz-Date:20150830T123600Z\n\n"},
	{"get-utf8", "GET /ሴ HTTP/1.1\nHost:example.amazonaws.com\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85\nX-Amz-Date:20150830T123600Z\n\n"},
	{"get-space-normalized", "GET /example space/ HTTP/1.1\nHost:example.amazonaws.com\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741\nX-Amz-Date:20150830T123600Z\n\n"},
	{"get-slashes-normalized", "GET //example// HTTP/1.1\nHost:example.amazonaws.com\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84\nX-Amz-Date:20150830T123600Z\n\n"},
	{"get-header-value-trim", "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1: value1\nMy-Header2: \"a   b   c\"\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736\nX-Amz-Date:20150830T123600Z\n\n"},
	{"post-header-key-sort", "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value1\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c\nX-Amz-Date:20150830T123600Z\n\n"},
	{"get-vanilla-with-session-token", "GET / HTTP/1.1\nHost:example.amazonaws.com\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8\nX-Amz-Date:20150830T123600Z\nX-Amz-Security-Token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n\n"},
	{"get-unreserved", "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\nHost:example.amazonaws.com\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f\nX-Amz-Date:20150830T123600Z\n\n"},
}

// parseSuiteRequest reads the suite's request format, which (unlike
// net/http) allows raw spaces and UTF-8 in the request path.
func parseSuiteRequest(t *testing.T, raw string) *http.Request {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(raw))
	sc.Scan()
	line := sc.Text()
	method, rest, _ := strings.Cut(line, " ")
	target := strings.TrimSuffix(rest, " HTTP/1.1")
	path, query, _ := strings.Cut(target, "?")
	enc := (&strings.Builder{})
	for _, seg := range strings.SplitAfter(path, "/") {
		enc.WriteString(uriEncode(seg, false))
	}
	req, err := http.NewRequest(method, "http://example.amazonaws.com"+enc.String()+"?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if query == "" {
		req.URL.RawQuery = ""
	}
	for sc.Scan() {
		l := sc.Text()
		if l == "" {
			break
		}
		k, v, _ := strings.Cut(l, ":")
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Add(k, strings.TrimLeft(v, " "))
	}
	return req
}

func TestAWSSigV4Suite(t *testing.T) {
	v := Verifier{Region: "us-east-1", Service: "service", Now: func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) }}
	secret := func(ctx context.Context, ak string) (string, error) {
		if ak != "AKIDEXAMPLE" {
			return "", errors.New("unknown key")
		}
		return "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", nil
	}
	for _, tt := range suite {
		t.Run(tt.name, func(t *testing.T) {
			req := parseSuiteRequest(t, tt.request)
			ak, err := v.Verify(context.Background(), req, nil, secret)
			if err != nil || ak != "AKIDEXAMPLE" {
				t.Fatalf("verify: %q %v", ak, err)
			}
			// One changed byte of the signed request fails.
			req.Header.Set("X-Amz-Date", "20150830T123601Z")
			if _, err := v.Verify(context.Background(), req, nil, secret); err == nil {
				t.Fatal("tampered request accepted")
			}
		})
	}
}
