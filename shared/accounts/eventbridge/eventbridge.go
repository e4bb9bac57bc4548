// Package eventbridge implements accounts.EventAccess on the stack's
// customer event bus: its resource policy has one statement per registered
// AWS account, "account-<id>", allowing that account's events:PutEvents
// (its forwarding rule). PutPermission with a statement id that exists
// replaces it, and a missing statement is already revoked, so Allow and
// Revoke are idempotent. The bus's own Deny statement (infra) refuses any
// event whose source is not aws.ec2, which PutPermission's per-account
// form cannot express.
package eventbridge

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/errs"
)

var _ accounts.EventAccess = (*Bus)(nil)

// API is the part of the EventBridge client used.
type API interface {
	PutPermission(ctx context.Context, in *eventbridge.PutPermissionInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutPermissionOutput, error)
	RemovePermission(ctx context.Context, in *eventbridge.RemovePermissionInput, opts ...func(*eventbridge.Options)) (*eventbridge.RemovePermissionOutput, error)
}

// Bus is the event bus whose policy admits the registered AWS accounts.
type Bus struct {
	Client API
	Name   string
}

// New returns the bus named busName (routes.EnvEventBus), with a client
// built from cfg.
func New(cfg aws.Config, busName string) *Bus {
	return &Bus{Client: eventbridge.NewFromConfig(cfg), Name: busName}
}

// StatementID is the bus policy statement that admits awsAccountID.
func StatementID(awsAccountID string) string { return "account-" + awsAccountID }

var accountID = regexp.MustCompile(`^\d{12}$`)

// Allow implements accounts.EventAccess.
func (b *Bus) Allow(ctx context.Context, awsAccountID string) error {
	if !accountID.MatchString(awsAccountID) {
		return fmt.Errorf("eventbridge: %q is not an AWS account id", awsAccountID)
	}
	_, err := b.Client.PutPermission(ctx, &eventbridge.PutPermissionInput{
		EventBusName: &b.Name,
		Action:       aws.String("events:PutEvents"),
		Principal:    &awsAccountID,
		StatementId:  aws.String(StatementID(awsAccountID)),
	})
	var full *types.PolicyLengthExceededException
	if errors.As(err, &full) {
		return &errs.Error{Code: errs.Conflict, Err: err, Message: "The event bus policy is full (10 KB, one statement per " +
			"AWS account), so AWS account " + awsAccountID + " cannot be admitted; nothing was changed."}
	}
	if err != nil {
		return fmt.Errorf("allow AWS account %s on event bus %s: %w", awsAccountID, b.Name, err)
	}
	return nil
}

// Revoke implements accounts.EventAccess.
func (b *Bus) Revoke(ctx context.Context, awsAccountID string) error {
	if !accountID.MatchString(awsAccountID) {
		return fmt.Errorf("eventbridge: %q is not an AWS account id", awsAccountID)
	}
	_, err := b.Client.RemovePermission(ctx, &eventbridge.RemovePermissionInput{
		EventBusName: &b.Name,
		StatementId:  aws.String(StatementID(awsAccountID)),
	})
	var gone *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("revoke AWS account %s on event bus %s: %w", awsAccountID, b.Name, err)
	}
	return nil
}
