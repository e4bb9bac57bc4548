package eventbridge

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/store/storetest"
)

// TestRegistrationRequests registers and deletes an account through the
// accounts service over this package's bus (DynamoDB Local; the SDK's
// requests captured): exactly one PutPermission for the account's AWS
// account, then one RemovePermission; a failed PutPermission registers
// nothing.
func TestRegistrationRequests(t *testing.T) {
	st := storetest.New(t)
	_, admin := storetest.Admin(t, st)
	var fail error
	c := &capture{respond: func(op string) (any, error) {
		if op == "PutPermission" {
			return &eventbridge.PutPermissionOutput{}, fail
		}
		return &eventbridge.RemovePermissionOutput{}, nil
	}}
	svc := accounts.NewService(st, st)
	svc.Events = bus(c)
	in := accounts.Input{Name: aws.String("prod"), BaseRegion: aws.String("us-east-1"),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/batchplane")}

	acc, err := svc.Create(admin, in)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.ops, []string{"PutPermission"}) || aws.ToString(c.inputs[0].(*eventbridge.PutPermissionInput).Principal) != "123456789012" {
		t.Fatalf("after create: %v %+v, want one PutPermission for 123456789012", c.ops, c.inputs)
	}
	if err := svc.Delete(admin, acc.ID); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.ops, []string{"PutPermission", "RemovePermission"}) ||
		aws.ToString(c.inputs[1].(*eventbridge.RemovePermissionInput).StatementId) != "account-123456789012" {
		t.Fatalf("after delete: %v, want one RemovePermission of account-123456789012", c.ops)
	}

	fail = &types.ConcurrentModificationException{Message: aws.String("busy")}
	if _, err := svc.Create(admin, in); !errs.Is(err, errs.Unavailable) {
		t.Fatalf("create with PutPermission failing: %v, want a 503", err)
	}
	if list, _, err := svc.List(admin, identity.Page{}); err != nil || len(list) != 0 {
		t.Errorf("registered after a failed PutPermission: %v %v", list, err)
	}
}
