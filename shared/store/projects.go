package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/projects"
)

var _ projects.Store = (*Store)(nil)

type projectItem struct {
	PK, SK, Type   string
	GSI1PK, GSI1SK string
	projects.Project
}

// CreateProject implements projects.Store.
func (s *Store) CreateProject(ctx context.Context, p projects.Project) error {
	it, err := put(s.Table, projectItem{PK: projectPK(p.ID), SK: skProject, Type: "Project", GSI1PK: gsiProjects, GSI1SK: p.ID, Project: p}, notExists)
	if err != nil {
		return err
	}
	return s.transact(ctx, "create project", []types.TransactWriteItem{it, s.accountRef(p.AccountID, 1)}, func(i int) error {
		if i == 0 {
			return errs.E(errs.Conflict, "Project %q already exists.", p.ID)
		}
		return errs.Field("AccountId", fmt.Sprintf("Account %q does not exist.", p.AccountID))
	})
}

// GetProject implements projects.Store.
func (s *Store) GetProject(ctx context.Context, id string) (projects.Project, error) {
	var it projectItem
	if err := s.getItem(ctx, projectPK(id), skProject, &it, "Project "+strconv.Quote(id)); err != nil {
		return projects.Project{}, err
	}
	return it.Project, nil
}

// ListProjects implements projects.Store.
func (s *Store) ListProjects(ctx context.Context, pg identity.Page) ([]projects.Project, string, error) {
	return listPage(ctx, s, collectionQuery(gsiProjects, "projects", pg), "projects", func(it projectItem) projects.Project { return it.Project })
}

// UpdateProject implements projects.Store (Refs kept: only these attributes change).
func (s *Store) UpdateProject(ctx context.Context, p projects.Project) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.Table,
		Key:                       key(projectPK(p.ID), skProject),
		UpdateExpression:          aws.String("SET #n = :n, #r = :r, VpcID = :v"),
		ConditionExpression:       aws.String(exists),
		ExpressionAttributeNames:  map[string]string{"#n": "Name", "#r": "Region"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": str(p.Name), ":r": str(p.Region), ":v": str(p.VpcID)},
	})
	if isConditionFailed(err) {
		return errs.NotFoundf("Project %q not found.", p.ID)
	}
	return mapErr("update project", err)
}

// DeleteProject implements projects.Store: refused while jobs use it.
func (s *Store) DeleteProject(ctx context.Context, p projects.Project) error {
	d := s.delUnreferenced(projectPK(p.ID), skProject)
	return s.transact(ctx, "delete project", []types.TransactWriteItem{d, s.accountRef(p.AccountID, -1)}, func(i int) error {
		if i == 0 {
			return errs.E(errs.Conflict, "Project %s still has jobs; delete them first.", p.ID)
		}
		return nil
	})
}
