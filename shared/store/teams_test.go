package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/store"
	"github.com/batchplane/batchplane/shared/store/storetest"
)

// TestLegacyTeamNameIsRekeyedByAnUpdate: a team written before name keys
// (issue 7) has no NameKey and a name item under its lower-cased, possibly
// unnormalised, name. It is found by id; an update with its name moves it
// to its TeamNameKey and frees the old name item (the migration
// docs/security.md describes).
func TestLegacyTeamNameIsRekeyedByAnUpdate(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	ids, admin := storetest.Admin(t, st)
	legacy := "E\u0301quipe" // NFD, as the old create stored it
	const id = "Z-0000AAAA"
	if err := st.CreateTeam(ctx, identity.Team{ID: id, Name: legacy, NameKey: strings.ToLower(legacy)}); err != nil {
		t.Fatal(err)
	}
	pk, sk := store.TeamItemKey(id)
	if _, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &st.Table, UpdateExpression: aws.String("REMOVE NameKey"),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Team(admin, "Équipe"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("legacy team by its canonical name before the update: %v, want not found", err)
	}
	if _, err := ids.UpdateTeam(admin, id, identity.TeamInput{Name: &legacy}); err != nil {
		t.Fatal(err)
	}
	got, err := ids.Team(admin, "équipe")
	if err != nil || got.ID != id || got.Name != "\u00c9quipe" {
		t.Fatalf("after the update: %+v %v", got, err)
	}
	if _, err := st.GetTeamByName(ctx, strings.ToLower(legacy)); !errs.Is(err, errs.NotFound) {
		t.Fatalf("the old name item is still there: %v", err)
	}
}
