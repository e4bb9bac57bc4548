package api_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/batchplane/batchplane/shared/identity"
)

// TestTeamNamesOneNormalForm (issue 7, finding 10): through the API and
// DynamoDB Local, two team names that render alike cannot both exist, a
// look-alike is found by the name it looks like, and mixed-script or
// invisible names are refused with a 400 naming Name.
func TestTeamNamesOneNormalForm(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	e.do("POST", "/api/v2/Teams", a, map[string]any{"Name": "Caf\u00e9"}).want(t, 201)
	e.do("POST", "/api/v2/Teams", a, map[string]any{"Name": "Opc"}).want(t, 201)
	for _, tt := range []struct {
		name   string
		status int
	}{
		{"Cafe\u0301", 409},             // NFD of Café
		{"CAF\u00c9", 409},              // case
		{"Ｏｒｇａｎｉｚａｔｉｏｎ", 409},           // fullwidth default team
		{"𝐎rganization", 409},           // mathematical bold O
		{"\u041e\u0440\u0441", 409},     // all-Cyrillic "Орс" renders as Opc
		{"\u041erganization", 400},      // Cyrillic О in a Latin name
		{"Organization\u200b", 400},     // zero-width space
		{"Organization\u200d", 400},     // zero-width joiner
		{"\u202enoitazinagrO", 400},     // right-to-left override
		{"Organization\u3164", 400},     // Hangul filler
		{"Organization\u00a0Team", 400}, // no-break space
	} {
		got := e.do("POST", "/api/v2/Teams", a, map[string]any{"Name": tt.name})
		if got.Status != tt.status || (tt.status == 400 && got.errors()["Name"] == nil) {
			t.Errorf("add %q: %d %s, want %d", tt.name, got.Status, got.Raw, tt.status)
		}
	}
	// Look-ups by name go through the same key.
	got := e.do("GET", "/api/v2/Teams/"+url.PathEscape("CAFE\u0301"), a, nil).want(t, 200).Body["Team"].(map[string]any)
	if got["Name"] != "Caf\u00e9" {
		t.Fatalf("team %v", got)
	}
	acc := e.do("POST", "/api/accounts/CloudFrontAWS", a, map[string]any{"Name": "x", "BaseRegion": "us-east-1", "RoleArn": role,
		"Teams": []string{"ｃａｆｅ\u0301"}}).want(t, 201)
	if fmt.Sprint(acc.data().(map[string]any)["Teams"]) != "[Caf\u00e9]" {
		t.Fatalf("account teams %s", acc.Raw)
	}
	// A rename to another spelling of the same name keeps the team's key; a
	// rename to a look-alike of another team is a conflict.
	id := got["Id"].(string)
	e.do("PUT", "/api/v2/Teams/"+id, a, map[string]any{"Name": "cafe\u0301"}).want(t, 200)
	e.do("PUT", "/api/v2/Teams/"+id, a, map[string]any{"Name": "\u041e\u0420\u0421"}).want(t, 409)
	e.do("PUT", "/api/v2/Teams/"+id, a, map[string]any{"Name": "Menu"}).want(t, 200)
	e.do("POST", "/api/v2/Teams", a, map[string]any{"Name": "Café"}).want(t, 201) // the old key was freed
}

// TestRemoveUserFromEveryTeam (issue 7, finding 10): an Administrator can
// take a user out of any team, the default one included; a User in no team
// then sees nothing but themselves, and the users of their former team no
// longer see them.
func TestRemoveUserFromEveryTeam(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	bob := e.newUser("bob@example.com", identity.RoleUser)
	carol := e.newUser("carol@example.com", identity.RoleUser)
	acc := e.do("POST", "/api/accounts/CloudFrontAWS", a, map[string]any{"Name": "shared", "BaseRegion": "us-east-1", "RoleArn": role}).
		want(t, 201).data().(map[string]any)["Id"].(string)
	bobPath, carolPath := fmt.Sprintf("/api/users/%d", bob.UserID), fmt.Sprintf("/api/users/%d", carol.UserID)
	e.do("GET", carolPath, &bob, nil).want(t, 200)
	e.do("GET", "/api/accounts/"+acc, &bob, nil).want(t, 200)

	e.do("DELETE", "/api/v2/Teams/"+identity.DefaultTeamName+"/Users/bob@example.com", &carol, nil).want(t, 403)
	e.do("DELETE", "/api/v2/Teams/"+identity.DefaultTeamName+"/Users/bob%40example.com", a, nil).want(t, 200)
	e.do("DELETE", "/api/v2/Teams/"+identity.DefaultTeamName+"/Users/bob@example.com", a, nil).want(t, 404) // no longer a member
	e.do("DELETE", "/api/v2/Teams/"+identity.DefaultTeamName+"/Users/ghost@example.com", a, nil).want(t, 404)
	e.do("DELETE", "/api/v2/Teams/Nowhere/Users/carol@example.com", a, nil).want(t, 404)

	users := e.do("GET", "/api/users", &bob, nil).want(t, 200).data().([]any)
	if len(users) != 1 || users[0].(map[string]any)["UserName"] != "bob@example.com" {
		t.Fatalf("bob, in no team, lists users %v", users)
	}
	e.do("GET", bobPath, &bob, nil).want(t, 200)
	for _, p := range []string{carolPath, "/api/users/1", "/api/accounts/" + acc, "/api/v2/Teams/" + identity.DefaultTeamName} {
		e.do("GET", p, &bob, nil).want(t, 404)
	}
	for _, p := range []string{"/api/accounts", "/api/Projects"} {
		if n := len(e.do("GET", p, &bob, nil).want(t, 200).data().([]any)); n != 0 {
			t.Errorf("bob lists %d of %s", n, p)
		}
	}
	for _, p := range []string{"/api/v2/Teams", "/api/v2/Users/Teams"} {
		if n := len(e.do("GET", p, &bob, nil).want(t, 200).Body["Teams"].([]any)); n != 0 {
			t.Errorf("bob lists %d teams at %s", n, p)
		}
	}
	e.do("GET", bobPath, &carol, nil).want(t, 404)
	members := e.do("GET", "/api/v2/Teams/"+identity.DefaultTeamName+"/Users", a, nil).want(t, 200).Body["Users"].([]any)
	for _, m := range members {
		if m.(map[string]any)["UserName"] == "bob@example.com" {
			t.Fatalf("bob is still listed in the default team: %v", members)
		}
	}
	// New users still join the default team; bob can be added back.
	u, err := e.svc.Store.GetUserByName(context.Background(), "carol@example.com")
	if err != nil || len(u.Teams) != 1 {
		t.Fatalf("carol's teams %v: %v", u.Teams, err)
	}
	e.do("POST", "/api/v2/Teams/"+identity.DefaultTeamName+"/Users", a, map[string]any{"UserName": "bob@example.com"}).want(t, 200)
	e.do("GET", carolPath, &bob, nil).want(t, 200)
}
