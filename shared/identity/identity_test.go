package identity

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/errs"
)

func ptr[T any](v T) *T { return &v }

func fieldsOf(err error) []string {
	e := errs.As(err)
	if e == nil {
		return nil
	}
	var out []string
	for k := range e.Fields {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestValidateTeam(t *testing.T) {
	tests := []struct {
		name       string
		in         TeamInput
		create     bool
		wantName   string
		wantFields []string
	}{
		{"valid, trimmed", TeamInput{Name: ptr(" Data "), Description: ptr("d")}, true, "Data", nil},
		{"name required on create", TeamInput{}, true, "", []string{"Name"}},
		{"name optional on update", TeamInput{Description: ptr("d")}, false, "", nil},
		{"empty name", TeamInput{Name: ptr("  ")}, false, "", []string{"Name"}},
		{"64 characters", TeamInput{Name: ptr(strings.Repeat("é", 64))}, true, strings.Repeat("é", 64), nil},
		{"65 characters", TeamInput{Name: ptr(strings.Repeat("é", 65))}, true, "", []string{"Name"}},
		{"a slash", TeamInput{Name: ptr("a/b")}, true, "", []string{"Name"}},
		{"looks like a team id", TeamInput{Name: ptr("Z-0123ABCD")}, true, "", []string{"Name"}},
		{"NUL", TeamInput{Name: ptr("a\x00b")}, true, "", []string{"Name"}},
		{"zero-width space", TeamInput{Name: ptr("Organization\u200b")}, true, "", []string{"Name"}},
		{"no-break space", TeamInput{Name: ptr("Data\u00a0Team")}, true, "", []string{"Name"}},
		{"invalid UTF-8", TeamInput{Name: ptr("a\xffb")}, true, "", []string{"Name"}},
		{"dot dot", TeamInput{Name: ptr("..")}, true, "", []string{"Name"}},
		{"dots inside are fine", TeamInput{Name: ptr("v1.2 team")}, true, "v1.2 team", nil},
		{"description 513 characters", TeamInput{Name: ptr("x"), Description: ptr(strings.Repeat("d", 513))}, true, "", []string{"Description"}},
		// Issue 7, finding 10: one normal form (NFKC), no mixed scripts, nothing invisible.
		{"NFD é is stored NFC", TeamInput{Name: ptr("Cafe\u0301")}, true, "Caf\u00e9", nil},
		{"fullwidth letters fold to ASCII", TeamInput{Name: ptr("Ｏｒｇａｎｉｚａｔｉｏｎ")}, true, "Organization", nil},
		{"mathematical bold folds", TeamInput{Name: ptr("𝐎rganization")}, true, "Organization", nil},
		{"ligature folds", TeamInput{Name: ptr("ﬁnance")}, true, "finance", nil},
		{"spaces collapse", TeamInput{Name: ptr("Data   Team")}, true, "Data Team", nil},
		{"fullwidth team id", TeamInput{Name: ptr("Ｚ-０１２３ＡＢＣＤ")}, true, "", []string{"Name"}},
		{"fullwidth slash", TeamInput{Name: ptr("a／b")}, true, "", []string{"Name"}},
		{"Cyrillic O in a Latin name", TeamInput{Name: ptr("\u041erganization")}, true, "", []string{"Name"}},
		{"Greek Omicron in a Latin name", TeamInput{Name: ptr("\u039fps")}, true, "", []string{"Name"}},
		{"Latin and Cyrillic words", TeamInput{Name: ptr("Ops Команда")}, true, "", []string{"Name"}},
		{"Arabic-Indic digit in a Latin name", TeamInput{Name: ptr("Ops\u0663")}, true, "", []string{"Name"}},
		{"all Cyrillic", TeamInput{Name: ptr("Команда")}, true, "Команда", nil},
		{"Japanese with Latin", TeamInput{Name: ptr("Dev 開発チーム")}, true, "Dev 開発チーム", nil},
		{"Korean", TeamInput{Name: ptr("개발팀")}, true, "개발팀", nil},
		{"zero-width joiner", TeamInput{Name: ptr("Ops\u200dTeam")}, true, "", []string{"Name"}},
		{"zero-width non-joiner", TeamInput{Name: ptr("Ops\u200cTeam")}, true, "", []string{"Name"}},
		{"word joiner", TeamInput{Name: ptr("Ops\u2060")}, true, "", []string{"Name"}},
		{"byte order mark", TeamInput{Name: ptr("\ufeffOps")}, true, "", []string{"Name"}},
		{"right-to-left override", TeamInput{Name: ptr("\u202eOps")}, true, "", []string{"Name"}},
		{"left-to-right mark", TeamInput{Name: ptr("Ops\u200e")}, true, "", []string{"Name"}},
		{"combining grapheme joiner", TeamInput{Name: ptr("Organization\u034f")}, true, "", []string{"Name"}},
		{"Hangul filler", TeamInput{Name: ptr("Organization\u3164")}, true, "", []string{"Name"}},
		{"braille blank", TeamInput{Name: ptr("Ops\u2800")}, true, "", []string{"Name"}},
		{"variation selector", TeamInput{Name: ptr("Ops\ufe0f")}, true, "", []string{"Name"}},
		{"ideographic space", TeamInput{Name: ptr("Data\u3000Team")}, true, "", []string{"Name"}},
		{"over 1024 bytes before folding", TeamInput{Name: ptr(strings.Repeat("a", 1025))}, true, "", []string{"Name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, err := validateTeam(tt.in, tt.create)
			if got, want := fieldsOf(err), tt.wantFields; !reflect.DeepEqual(got, want) {
				t.Fatalf("fields = %v, want %v", got, want)
			}
			if err == nil && name != tt.wantName {
				t.Errorf("name = %q, want %q", name, tt.wantName)
			}
		})
	}
}

// TestTeamNameKey: names that render alike share a key (so the store's
// unique name item refuses the second), names that do not keep their own.
func TestTeamNameKey(t *testing.T) {
	if got := TeamNameKey(DefaultTeamName); got != defaultTeamKey {
		t.Fatalf("TeamNameKey(%q) = %q, defaultTeamKey = %q", DefaultTeamName, got, defaultTeamKey)
	}
	tests := []struct {
		a, b string
		same bool
	}{
		{"Caf\u00e9", "Cafe\u0301", true},                        // NFC vs NFD
		{"Ｏｒｇａｎｉｚａｔｉｏｎ", "Organization", true},                   // fullwidth
		{"𝐎𝐩𝐬", "ops", true},                                     // mathematical bold, case
		{"OPS", "ops", true},                                     // case
		{"\u041e\u0440\u0441", "Opc", true},                      // all-Cyrillic "Орс"
		{"\u0391\u0392\u0395", "ABE", true},                      // all-Greek "ΑΒΕ"
		{"\u0440\u0430\u0443\u0440\u0430\u0441", "paypac", true}, // Cyrillic "раурас"
		{"Data  Team", "Data Team", true},                        // spaces
		{"Café", "Cafe", false},                                  // a different letter
		{"team1", "teaml", false},                                // ASCII is not folded
		{"Кома", "KOMA", true},                                   // whole-script look-alike
		{"Ops", "Dev", false},
	}
	for _, tt := range tests {
		if got := TeamNameKey(tt.a) == TeamNameKey(tt.b); got != tt.same {
			t.Errorf("TeamNameKey(%q) = %q, TeamNameKey(%q) = %q: same = %v, want %v", tt.a, TeamNameKey(tt.a), tt.b, TeamNameKey(tt.b), got, tt.same)
		}
	}
}

func TestValidateUser(t *testing.T) {
	ok := UserInput{UserName: ptr("ana@example.com"), FullName: ptr("Ana"), Role: ptr(RoleUser)}
	with := func(f func(*UserInput)) UserInput { in := ok; f(&in); return in }
	tests := []struct {
		name       string
		in         UserInput
		create     bool
		wantFields []string
	}{
		{"valid", ok, true, nil},
		{"all required on create", UserInput{}, true, []string{"FullName", "Role", "UserName"}},
		{"none required on update", UserInput{}, false, nil},
		{"not an e-mail address", with(func(in *UserInput) { in.UserName = ptr("ana") }), true, []string{"UserName"}},
		{"an address with a display name", with(func(in *UserInput) { in.UserName = ptr("Ana <ana@example.com>") }), true, []string{"UserName"}},
		{"address over 254 characters", with(func(in *UserInput) { in.UserName = ptr(strings.Repeat("a", 243) + "@example.com") }), true, []string{"UserName"}},
		{"blank full name", with(func(in *UserInput) { in.FullName = ptr(" ") }), true, []string{"FullName"}},
		{"full name 129 characters", with(func(in *UserInput) { in.FullName = ptr(strings.Repeat("n", 129)) }), true, []string{"FullName"}},
		{"unknown role", with(func(in *UserInput) { in.Role = ptr("Root") }), true, []string{"Role"}},
		{"administrator", with(func(in *UserInput) { in.Role = ptr(RoleAdministrator) }), true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := fieldsOf(validateUser(tt.in, tt.create)), tt.wantFields; !reflect.DeepEqual(got, want) {
				t.Errorf("fields = %v, want %v", got, want)
			}
		})
	}
}

func TestCallerAndAdmin(t *testing.T) {
	admin := WithPrincipal(context.Background(), Principal{User: User{ID: 1, Role: RoleAdministrator}})
	user := WithPrincipal(context.Background(), Principal{User: User{ID: 2, Role: RoleUser}})
	tests := []struct {
		name          string
		ctx           context.Context
		wantCaller    errs.Code
		wantAdmin     errs.Code
		wantAdminUser int64
	}{
		{"nobody", context.Background(), errs.Unauthenticated, errs.Unauthenticated, 0},
		{"a user", user, "", errs.Forbidden, 2},
		{"an administrator", admin, "", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Caller(tt.ctx); errs.CodeOf(err) != tt.wantCaller {
				t.Errorf("Caller: %v, want code %q", err, tt.wantCaller)
			}
			p, err := Admin(tt.ctx, "Only an Administrator may do this.")
			if errs.CodeOf(err) != tt.wantAdmin || p.User.ID != tt.wantAdminUser {
				t.Errorf("Admin: %v %v, want code %q user %d", p.User.ID, err, tt.wantAdmin, tt.wantAdminUser)
			}
			if err != nil && tt.wantAdmin == errs.Forbidden && errs.As(err).Message != "Only an Administrator may do this." {
				t.Errorf("message %q", errs.As(err).Message)
			}
		})
	}
}

func TestPrincipalSees(t *testing.T) {
	user := Principal{User: User{Role: RoleUser, Teams: []string{"Z-1", "Z-2"}}}
	admin := Principal{User: User{Role: RoleAdministrator}}
	tests := []struct {
		name  string
		p     Principal
		teams []string
		want  bool
	}{
		{"shares a team", user, []string{"Z-3", "Z-2"}, true},
		{"shares none", user, []string{"Z-3"}, false},
		{"no teams", user, nil, false},
		{"an administrator sees all", admin, []string{"Z-9"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Sees(tt.teams); got != tt.want {
				t.Errorf("Sees(%v) = %v, want %v", tt.teams, got, tt.want)
			}
		})
	}
	if admin.Scope() != nil || !reflect.DeepEqual(user.Scope(), []string{"Z-1", "Z-2"}) {
		t.Errorf("scopes: admin %v, user %v", admin.Scope(), user.Scope())
	}
}

func TestNewKeyPair(t *testing.T) {
	ak, sk := newKeyPair()
	ak2, _ := newKeyPair()
	if len(ak) != 20 || !strings.HasPrefix(ak, "BPAK") || len(sk) != 40 || ak == ak2 {
		t.Fatalf("key pair %q %q (then %q)", ak, sk, ak2)
	}
	if c := (Credential{Secret: sk}); c.CheckSecret(sk) != nil || c.CheckSecret(sk+"x") != ErrBadCredentials {
		t.Fatal("CheckSecret")
	}
}
