package accounts

import (
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/cloud"
)

func TestValidRoleArn(t *testing.T) {
	long := func(n int) string { return "arn:aws:iam::123456789012:role/" + strings.Repeat("a", n) }
	for _, tc := range []struct {
		arn  string
		want bool
		id   string
	}{
		{"arn:aws:iam::123456789012:role/batchplane", true, "123456789012"},
		{"arn:aws:iam::123456789012:role/path/to/Role+=,.@-_", true, "123456789012"},
		{long(512), true, "123456789012"},
		{long(513), false, ""},
		{"arn:aws:iam::123456789012:role/", false, ""},
		{"arn:aws:iam::12345678901:role/r", false, ""},
		{"arn:aws:iam::123456789012:user/r", false, ""},
		{"arn:aws:iam::123456789012:role/r r", false, ""},
		{"xarn:aws:iam::123456789012:role/r", false, ""},
		{"", false, ""},
	} {
		if got := ValidRoleArn(tc.arn); got != tc.want {
			t.Errorf("ValidRoleArn(%.50q) = %v, want %v", tc.arn, got, tc.want)
		}
		if tc.want {
			if got := (Account{RoleArn: tc.arn}).AWSAccountID(); got != tc.id {
				t.Errorf("AWSAccountID(%.50q) = %q, want %q", tc.arn, got, tc.id)
			}
		}
	}
}

func TestTarget(t *testing.T) {
	a := Account{ID: "A-1", BaseRegion: "us-east-1", RoleArn: "arn:aws:iam::123456789012:role/r", ExternalID: "bp-x"}
	tests := []struct {
		name   string
		region string
	}{
		{"the base region", "us-east-1"},
		{"another region", "eu-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := a.Target(tt.region), cloud.Target{AccountID: "A-1", RoleArn: a.RoleArn, ExternalID: "bp-x", Region: tt.region}
			if got != want {
				t.Errorf("Target(%s) = %+v, want %+v", tt.region, got, want)
			}
		})
	}
}
