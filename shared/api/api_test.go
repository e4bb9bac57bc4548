package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/identity"
)

const role = "arn:aws:iam::123456789012:role/batchplane"

func TestHealthNeedsNoAuth(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/health", nil, nil).want(t, 200)
}

func TestAuthFailuresAreOne401(t *testing.T) {
	e := newEnv(t)
	revoked := e.newUser("rev@example.com", identity.RoleUser)
	e.do("DELETE", "/api/keys/"+revoked.AccessKey, &revoked, nil).want(t, 200)
	wrong := e.admin
	wrong.SecretKey += "x"
	unknown := identity.NewKey{Key: identity.Key{AccessKey: "BPAKUNKNOWN"}, SecretKey: "s"}
	tests := []struct {
		name   string
		header string
	}{
		{"missing", ""},
		{"malformed", "ApiKey nocolon"},
		{"empty secret", "ApiKey " + e.admin.AccessKey + ":"},
		{"other scheme", "Bearer abc"},
		{"unknown key", "ApiKey " + unknown.AccessKey + ":" + unknown.SecretKey},
		{"wrong secret", "ApiKey " + wrong.AccessKey + ":" + wrong.SecretKey},
		{"revoked key", "ApiKey " + revoked.AccessKey + ":" + revoked.SecretKey},
		{"bad sigv4", "AWS4-HMAC-SHA256 Credential=" + e.admin.AccessKey + "/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"},
	}
	var first map[string]any
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.srv.URL+"/api/accounts", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			r := e.send(req).want(t, 401)
			delete(r.Body, "RequestId")
			if first == nil {
				first = r.Body
			} else if fmt.Sprint(first) != fmt.Sprint(r.Body) {
				t.Fatalf("401 bodies differ: %v vs %v", first, r.Body)
			}
		})
	}
}

func TestEveryRouteButHealthNeedsAuth(t *testing.T) {
	e := newEnv(t)
	for _, p := range []struct{ method, path string }{
		{"GET", "/api/accounts"}, {"GET", "/api/Accounts/A-1"}, {"POST", "/api/accounts/CloudFrontAWS"},
		{"GET", "/api/users"}, {"GET", "/api/v2/Users/Teams"}, {"GET", "/api/v2/Teams"},
		{"GET", "/api/caches/regions"}, {"GET", "/api/keys"}, {"GET", "/api/openapi.json"},
	} {
		e.do(p.method, p.path, nil, nil).want(t, 401)
	}
}

func TestAccountsLifecycle(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	add := e.do("POST", "/api/accounts/CloudFrontAWS", a, map[string]any{
		"Name": "prod", "BaseRegion": "us-east-1", "RoleArn": role}).want(t, 201)
	d := add.data().(map[string]any)
	id := d["Id"].(string)
	if !strings.HasPrefix(id, "A-") || len(id) != 10 {
		t.Fatalf("account id %q", id)
	}
	if ext, _ := d["ExternalId"].(string); ext == "" {
		t.Fatal("no ExternalId")
	}
	if fmt.Sprint(d["Teams"]) != "[Organization]" || d["Platform"] != "AmazonWebServices" || d["PlatformName"] != "Amazon Web Services" {
		t.Fatalf("account %v", d)
	}
	// Batchly's path adds too.
	e.do("POST", "/api/Accounts/AWS", a, map[string]any{"Name": "dev", "BaseRegion": "eu-west-1", "RoleArn": role}).want(t, 201)

	got := e.do("GET", "/api/Accounts/"+id, a, nil).want(t, 200)
	if got.data().(map[string]any)["Name"] != "prod" || got.Body["ContinuationToken"] != nil {
		t.Fatalf("get %s", got.Raw)
	}
	list := e.do("GET", "/api/accounts", a, nil).want(t, 200)
	if n := len(list.data().([]any)); n != 2 {
		t.Fatalf("list has %d accounts", n)
	}
	up := e.do("PUT", "/api/accounts/"+id, a, map[string]any{"Name": "production", "BaseRegion": "us-west-2"}).want(t, 200)
	if d := up.data().(map[string]any); d["Name"] != "production" || d["BaseRegion"] != "us-west-2" || d["RoleArn"] != role {
		t.Fatalf("update %s", up.Raw)
	}
	del := e.do("DELETE", "/api/accounts/"+id, a, nil).want(t, 200)
	if del.data() != true {
		t.Fatalf("delete %s", del.Raw)
	}
	e.do("GET", "/api/accounts/"+id, a, nil).want(t, 404)
	e.do("DELETE", "/api/accounts/"+id, a, nil).want(t, 404)
}

func TestBadInputIs400WithErrors(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"bad role arn", "POST", "/api/accounts/CloudFrontAWS", map[string]any{"Name": "x", "BaseRegion": "us-east-1", "RoleArn": "arn:aws:iam::12:role/x"}, 400, "RoleArn"},
		{"bad region", "POST", "/api/accounts/CloudFrontAWS", map[string]any{"Name": "x", "BaseRegion": "mars-1", "RoleArn": role}, 400, "BaseRegion"},
		{"missing name", "POST", "/api/accounts/CloudFrontAWS", map[string]any{"BaseRegion": "us-east-1", "RoleArn": role}, 400, "Name"},
		{"unknown team", "POST", "/api/accounts/CloudFrontAWS", map[string]any{"Name": "x", "BaseRegion": "us-east-1", "RoleArn": role, "Teams": []string{"Nope"}}, 400, "Teams"},
		{"unknown field", "POST", "/api/accounts/CloudFrontAWS", map[string]any{"Name": "x", "BaseRegion": "us-east-1", "RoleArn": role, "ExternalId": "mine"}, 400, "ExternalId"},
		{"wrong type", "POST", "/api/accounts/CloudFrontAWS", `{"Name": 5}`, 400, "Name"},
		{"malformed", "POST", "/api/v2/Teams", `{"Name": `, 400, "Body"},
		{"two objects", "POST", "/api/v2/Teams", `{"Name":"a"}{"Name":"b"}`, 400, "Body"},
		{"array body", "POST", "/api/v2/Teams", `[1]`, 400, "Body"},
		{"empty body", "POST", "/api/v2/Teams", nil, 400, "Body"},
		{"bad email", "POST", "/api/users", map[string]any{"UserName": "nope", "FullName": "N", "Role": "User"}, 400, "UserName"},
		{"bad role", "POST", "/api/users", map[string]any{"UserName": "a@b.co", "FullName": "N", "Role": "God"}, 400, "Role"},
		{"bad page size", "GET", "/api/accounts?PageSize=1000", nil, 400, "PageSize"},
		{"bad platform", "GET", "/api/caches/regions?platform=gcp", nil, 400, "platform"},
		{"tampered token", "GET", "/api/accounts?ContinuationToken=eyJQSyI6IkFDQ09VTlQjQS0xIn0.AAAA", nil, 400, "ContinuationToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, a, tt.body).want(t, tt.status)
			if _, ok := r.errors()[tt.field]; !ok {
				t.Fatalf("Errors %v lack %q", r.errors(), tt.field)
			}
		})
	}
}

func TestContentTypeAndSize(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v2/Teams", strings.NewReader("Name=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "ApiKey "+e.admin.AccessKey+":"+e.admin.SecretKey)
	e.send(req).want(t, 415)
	big := `{"Name":"` + strings.Repeat("x", 1<<20) + `"}`
	e.do("POST", "/api/v2/Teams", &e.admin, big).want(t, 413)
}

func TestPagingAndTamperedTokens(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.do("POST", "/api/v2/Teams", &e.admin, map[string]any{"Name": fmt.Sprintf("team-%d", i)}).want(t, 201)
	}
	seen := map[string]bool{}
	path := "/api/v2/Teams?PageSize=2"
	pages := 0
	for {
		r := e.do("GET", path, &e.admin, nil).want(t, 200)
		pages++
		for _, tm := range r.Body["Teams"].([]any) {
			seen[tm.(map[string]any)["Id"].(string)] = true
		}
		tok, _ := r.Body["ContinuationToken"].(string)
		if tok == "" {
			break
		}
		// An edited token is a 400, never a query from elsewhere.
		edited := tok[:len(tok)-2] + "AA"
		if edited == tok {
			edited = tok[:len(tok)-2] + "BB"
		}
		e.do("GET", "/api/v2/Teams?PageSize=2&ContinuationToken="+url.QueryEscape(edited), &e.admin, nil).want(t, 400)
		// A token from another listing is rejected too.
		e.do("GET", "/api/users?ContinuationToken="+url.QueryEscape(tok), &e.admin, nil).want(t, 400)
		path = "/api/v2/Teams?PageSize=2&ContinuationToken=" + url.QueryEscape(tok)
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 6 || pages < 3 {
		t.Fatalf("saw %d teams in %d pages", len(seen), pages)
	}
}

func TestTeamScopeIs404(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	e.do("POST", "/api/v2/Teams", a, map[string]any{"Name": "Red", "Description": "red team"}).want(t, 201)
	e.do("POST", "/api/v2/Teams", a, map[string]any{"Name": "Blue"}).want(t, 201)
	acc := e.do("POST", "/api/accounts/CloudFrontAWS", a, map[string]any{"Name": "red-acc", "BaseRegion": "us-east-1", "RoleArn": role, "Teams": []string{"Red"}}).want(t, 201)
	redID := acc.data().(map[string]any)["Id"].(string)
	bob := e.newUser("bob@example.com", identity.RoleUser)
	e.do("POST", "/api/v2/Teams/Blue/Users", a, map[string]any{"UserName": "bob@example.com"}).want(t, 200)

	for _, p := range []string{"/api/accounts/" + redID, "/api/v2/Teams/Red", "/api/v2/Teams/Red/Users"} {
		e.do("GET", p, &bob, nil).want(t, 404)
	}
	e.do("PUT", "/api/accounts/"+redID, &bob, map[string]any{"Name": "mine"}).want(t, 404)
	e.do("DELETE", "/api/accounts/"+redID, &bob, nil).want(t, 404)
	if n := len(e.do("GET", "/api/accounts", &bob, nil).want(t, 200).data().([]any)); n != 0 {
		t.Fatalf("bob lists %d accounts", n)
	}
	teams := e.do("GET", "/api/v2/Teams", &bob, nil).want(t, 200).Body["Teams"].([]any)
	if len(teams) != 2 { // Organization and Blue
		t.Fatalf("bob sees teams %v", teams)
	}
	mine := e.do("GET", "/api/v2/Users/Teams", &bob, nil).want(t, 200).Body["Teams"].([]any)
	if len(mine) != 2 {
		t.Fatalf("bob's teams %v", mine)
	}
	// A non-admin cannot write users, teams or accounts.
	e.do("POST", "/api/v2/Teams", &bob, map[string]any{"Name": "Mine"}).want(t, 403)
	e.do("POST", "/api/users", &bob, map[string]any{"UserName": "c@d.co", "FullName": "C", "Role": "User"}).want(t, 403)
	e.do("POST", "/api/accounts/CloudFrontAWS", &bob, map[string]any{"Name": "x", "BaseRegion": "us-east-1", "RoleArn": role}).want(t, 403)
	// Once in Red, bob sees the account.
	e.do("POST", "/api/v2/Teams/Red/Users", a, map[string]any{"UserName": "bob@example.com"}).want(t, 200)
	e.do("GET", "/api/accounts/"+redID, &bob, nil).want(t, 200)
}

func TestTeamsLifecycle(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	r := e.do("POST", "/api/v2/Teams", a, map[string]any{"Name": "Test Team", "Description": "Test Team"}).want(t, 201)
	if r.Body["Success"] != true {
		t.Fatalf("add %s", r.Raw)
	}
	e.do("POST", "/api/v2/Teams", a, map[string]any{"Name": "test team"}).want(t, 409)
	got := e.do("GET", "/api/v2/Teams/Test%20Team", a, nil).want(t, 200).Body["Team"].(map[string]any)
	id := got["Id"].(string)
	if !strings.HasPrefix(id, "Z-") || got["IsDefault"] != false || got["Description"] != "Test Team" {
		t.Fatalf("team %v", got)
	}
	e.do("PUT", "/api/v2/Teams/"+id, a, map[string]any{"Name": "Renamed"}).want(t, 200)
	if n := e.do("GET", "/api/v2/Teams/"+id, a, nil).want(t, 200).Body["Team"].(map[string]any)["Name"]; n != "Renamed" {
		t.Fatalf("renamed to %v", n)
	}
	e.newUser("u1@example.com", identity.RoleUser)
	e.do("POST", "/api/v2/Teams/Renamed/Users", a, map[string]any{"UserName": "u1@example.com"}).want(t, 200)
	e.do("POST", "/api/v2/Teams/Renamed/Users", a, map[string]any{"UserName": "ghost@example.com"}).want(t, 400)
	users := e.do("GET", "/api/v2/Teams/Renamed/Users", a, nil).want(t, 200).Body["Users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["Email"] != "u1@example.com" {
		t.Fatalf("team users %v", users)
	}
	acc := e.do("POST", "/api/accounts/CloudFrontAWS", a, map[string]any{"Name": "x", "BaseRegion": "us-east-1", "RoleArn": role, "Teams": []string{"Renamed"}}).want(t, 201)
	if fmt.Sprint(acc.data().(map[string]any)["Teams"]) != "[Renamed]" {
		t.Fatalf("account teams %s", acc.Raw)
	}
	if r := e.do("DELETE", "/api/v2/Teams/"+id, a, nil).want(t, 409); r.errors()["Error"] == nil {
		t.Fatalf("no reason: %s", r.Raw)
	}
	e.do("DELETE", "/api/accounts/"+acc.data().(map[string]any)["Id"].(string), a, nil).want(t, 200)
	e.do("DELETE", "/api/v2/Teams/"+id, a, nil).want(t, 200)
	e.do("GET", "/api/v2/Teams/"+id, a, nil).want(t, 404)
	e.do("DELETE", "/api/v2/Teams/Organization", a, nil).want(t, 409)
}

func TestUsersLifecycle(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	r := e.do("POST", "/api/users", a, map[string]any{"UserName": "test@batch.ly", "FullName": "Tester", "Role": "User"}).want(t, 201)
	if r.data() != true || r.Header.Get("Location") == "" {
		t.Fatalf("add %s %v", r.Raw, r.Header)
	}
	e.do("POST", "/api/users", a, map[string]any{"UserName": "TEST@batch.ly", "FullName": "Dup", "Role": "User"}).want(t, 409)
	loc := r.Header.Get("Location")
	u := e.do("GET", loc, a, nil).want(t, 200).data().(map[string]any)
	if u["UserName"] != "test@batch.ly" || u["Role"] != "User" || u["Id"].(float64) < 2 {
		t.Fatalf("user %v", u)
	}
	e.do("PUT", loc, a, map[string]any{"FullName": "Renamed", "Role": "Administrator"}).want(t, 200)
	if u := e.do("GET", loc, a, nil).want(t, 200).data().(map[string]any); u["FullName"] != "Renamed" || u["Role"] != "Administrator" {
		t.Fatalf("updated %v", u)
	}
	e.do("PUT", "/api/users/1", a, map[string]any{"Role": "User"}).want(t, 400) // no self-demotion
	e.do("GET", "/api/users/999", a, nil).want(t, 404)
	e.do("GET", "/api/users/abc", a, nil).want(t, 404)
	if n := len(e.do("GET", "/api/users", a, nil).want(t, 200).data().([]any)); n != 2 {
		t.Fatalf("%d users", n)
	}
}

func TestKeys(t *testing.T) {
	e := newEnv(t)
	bob := e.newUser("bob@example.com", identity.RoleUser)
	k := e.do("POST", "/api/keys", &bob, nil).want(t, 201).data().(map[string]any)
	if k["SecretKey"] == "" || k["AccessKey"] == "" {
		t.Fatalf("key %v", k)
	}
	e.do("POST", "/api/keys", &bob, nil).want(t, 409) // two active keys at most
	list := e.do("GET", "/api/keys", &bob, nil).want(t, 200)
	if strings.Contains(string(list.Raw), "SecretKey") || strings.Contains(string(list.Raw), bob.SecretKey) {
		t.Fatalf("secret listed: %s", list.Raw)
	}
	if n := len(list.data().([]any)); n != 2 {
		t.Fatalf("%d keys", n)
	}
	// bob cannot see or revoke the admin's keys, nor create keys for others.
	e.do("DELETE", "/api/keys/"+e.admin.AccessKey, &bob, nil).want(t, 404)
	e.do("GET", "/api/keys?UserId=1", &bob, nil).want(t, 404)
	e.do("POST", "/api/keys", &bob, map[string]any{"UserId": 1}).want(t, 403)
	// The admin can.
	e.do("GET", fmt.Sprintf("/api/keys?UserId=%d", 2), &e.admin, nil).want(t, 200)
	e.do("DELETE", "/api/keys/"+k["AccessKey"].(string), &bob, nil).want(t, 200)
	next := identity.NewKey{Key: identity.Key{AccessKey: k["AccessKey"].(string)}, SecretKey: k["SecretKey"].(string)}
	e.do("GET", "/api/accounts", &next, nil).want(t, 401)
	// The secret is never in the table in clear.
	raw, err := e.svc.Store.GetKey(t.Context(), bob.AccessKey)
	if err != nil || strings.Contains(string(raw.Sealed), bob.SecretKey) {
		t.Fatalf("sealed secret: %v", err)
	}
}

func TestRegions(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/api/caches/regions?platform=AmazonWebServices", "/api/api/caches/regions?platform=1", "/API/Caches/Regions"} {
		r := e.do("GET", p, &e.admin, nil).want(t, 200)
		rs := r.data().([]any)
		if len(rs) < 10 || rs[0].(map[string]any)["Id"] != "us-east-1" {
			t.Fatalf("%s: %s", p, r.Raw)
		}
	}
}

func TestRoutingCaseAndErrors(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	e.do("GET", "/API/ACCOUNTS", a, nil).want(t, 200)
	e.do("GET", "/api/v2/teams", a, nil).want(t, 200)
	// ids keep their case: a lower-cased id is another id.
	id := e.do("POST", "/api/accounts/CloudFrontAWS", a, map[string]any{"Name": "x", "BaseRegion": "us-east-1", "RoleArn": role}).want(t, 201).data().(map[string]any)["Id"].(string)
	e.do("GET", "/api/accounts/"+strings.ToLower(id), a, nil).want(t, 404)
	nf := e.do("GET", "/api/nothing", a, nil).want(t, 404)
	if nf.errors()["Error"] == nil || nf.Body["RequestId"] == "" {
		t.Fatalf("404 envelope %s", nf.Raw)
	}
	e.do("PATCH", "/api/accounts", a, nil).want(t, 405)
}

func TestRequestIDsAreFresh(t *testing.T) {
	e := newEnv(t)
	r1 := e.do("GET", "/health", nil, nil)
	r2 := e.do("GET", "/health", nil, nil)
	if r1.Body["RequestId"] == r2.Body["RequestId"] || len(r1.Body["RequestId"].(string)) != 36 {
		t.Fatalf("request ids %v %v", r1.Body["RequestId"], r2.Body["RequestId"])
	}
}

func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	send := func(key string, body any) resp {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v2/Teams", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "ApiKey "+e.admin.AccessKey+":"+e.admin.SecretKey)
		req.Header.Set("Idempotency-Key", key)
		return e.send(req)
	}
	first := send("k1", map[string]any{"Name": "Once"}).want(t, 201)
	again := send("k1", map[string]any{"Name": "Once"}).want(t, 201)
	if again.Header.Get("Idempotent-Replayed") != "true" || again.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("not replayed: %v", again.Header)
	}
	send("k1", map[string]any{"Name": "Other"}).want(t, 409)
	if n := len(e.do("GET", "/api/v2/Teams", &e.admin, nil).want(t, 200).Body["Teams"].([]any)); n != 2 {
		t.Fatalf("%d teams, want 2", n)
	}
	// A 4xx is kept too: the same bad request gets the same answer.
	send("k2", map[string]any{"Name": ""}).want(t, 400)
	send("k2", map[string]any{"Name": ""}).want(t, 400)
}
