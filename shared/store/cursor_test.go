package store

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestTokensRoundTripAndTamper(t *testing.T) {
	tk := NewTokens([]byte("0123456789abcdef0123456789abcdef"))
	lek := map[string]types.AttributeValue{"PK": str("ACCOUNT#A-1"), "SK": str("ACCOUNT"), "GSI1PK": str("ACCOUNTS"), "GSI1SK": str("A-1")}
	tok, err := tk.Encode("accounts:", lek)
	if err != nil || tok == "" {
		t.Fatalf("encode: %q %v", tok, err)
	}
	got, err := tk.Decode("accounts:", tok)
	if err != nil || len(got) != 4 || got["PK"].(*types.AttributeValueMemberS).Value != "ACCOUNT#A-1" {
		t.Fatalf("decode: %v %v", got, err)
	}
	tests := []struct{ name, scope, token string }{
		{"other scope", "users:", tok},
		{"flipped byte", "accounts:", tok[:3] + string(tok[3]^1) + tok[4:]},
		{"no mac", "accounts:", tok[:len(tok)-25]},
		{"garbage", "accounts:", "%%%"},
		{"other key", "accounts:", func() string {
			s, _ := NewTokens([]byte("another key of thirty-two bytes!")).Encode("accounts:", lek)
			return s
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tk.Decode(tt.scope, tt.token); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func FuzzTokenDecode(f *testing.F) {
	tk := NewTokens([]byte("0123456789abcdef0123456789abcdef"))
	good, _ := tk.Encode("s", map[string]types.AttributeValue{"PK": str("x")})
	f.Add("s", good)
	f.Add("s", "a.b")
	f.Fuzz(func(t *testing.T, scope, token string) {
		m, err := tk.Decode(scope, token)
		if err == nil && token != "" && len(m) == 0 {
			t.Fatal("empty key accepted")
		}
		if err == nil && token != "" && token != good {
			t.Fatalf("forged token accepted: %q", token)
		}
	})
}
