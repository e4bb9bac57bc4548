package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/jobs"
)

var _ jobs.Store = (*Store)(nil)

type jobItem struct {
	PK, SK, Type   string
	GSI1PK, GSI1SK string
	// KragleJobs counts the Kragle jobs bound to the job (stackRef): it is
	// the job's IsScheduled.
	KragleJobs int64
	jobs.Job
}

// job is the item's job with IsScheduled read from its Kragle jobs.
func (it jobItem) job() jobs.Job {
	j := it.Job
	j.IsScheduled = it.KragleJobs > 0
	return j
}

func jobItemOf(j jobs.Job) jobItem {
	return jobItem{PK: jobPKOf(j.ID), SK: skJob, Type: "Job", GSI1PK: gsiJobs, GSI1SK: j.ID, Job: j}
}

// accountRef counts a job's reference on its account, so an account in use
// cannot be deleted (DeleteAccount requires Refs = 0).
func (s *Store) accountRef(accountID string, delta int) types.TransactWriteItem {
	return s.ref(accountPK(accountID), skAccount, delta)
}

// projectRef counts a job's reference on its project.
func (s *Store) projectRef(projectID string, delta int) types.TransactWriteItem {
	return s.ref(projectPK(projectID), skProject, delta)
}

// CreateJob implements jobs.Store.
func (s *Store) CreateJob(ctx context.Context, j jobs.Job) error {
	p, err := put(s.Table, jobItemOf(j), notExists)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{p, s.accountRef(j.AccountID, 1)}
	if j.ProjectID != "" {
		items = append(items, s.projectRef(j.ProjectID, 1))
	}
	if j.Number > 0 {
		n, err := s.stackNumberPut(j.Number, j.ID)
		if err != nil {
			return err
		}
		items = append(items, n)
	}
	return s.transact(ctx, "create job", items, func(i int) error {
		switch {
		case i == 0:
			return errs.E(errs.Conflict, "Job %q already exists.", j.ID)
		case i == 1:
			return errs.Field("AccountId", fmt.Sprintf("Account %q does not exist.", j.AccountID))
		case i == 2 && j.ProjectID != "":
			return errs.Field("ProjectId", fmt.Sprintf("Project %q does not exist.", j.ProjectID))
		}
		return errs.E(errs.Conflict, "Stack number %d is taken; retry.", j.Number)
	})
}

// GetJob implements jobs.Store.
func (s *Store) GetJob(ctx context.Context, id string) (jobs.Job, error) {
	var it jobItem
	if err := s.getItem(ctx, jobPKOf(id), skJob, &it, "Job "+strconv.Quote(id)); err != nil {
		return jobs.Job{}, err
	}
	return it.job(), nil
}

// ListJobs implements jobs.Store.
func (s *Store) ListJobs(ctx context.Context, p identity.Page) ([]jobs.Job, string, error) {
	return listPage(ctx, s, collectionQuery(gsiJobs, "jobs", p), "jobs", jobItem.job)
}

// UpdateJob implements jobs.Store: the configuration changes, the run
// counters (Runs, ActiveRunID) stay as the runs left them. A new project
// moves the job's reference from the old project to the new one in the
// same transaction, conditioned on the job still naming the old one.
func (s *Store) UpdateJob(ctx context.Context, old, j jobs.Job) error {
	moved := old.ProjectID != j.ProjectID
	u, err := s.jobUpdate(j, moved)
	if err != nil {
		return err
	}
	if !moved {
		_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
			ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames,
			ExpressionAttributeValues: u.ExpressionAttributeValues})
		if isConditionFailed(err) {
			return errs.NotFoundf("Job %q not found.", j.ID)
		}
		return mapErr("update job", err)
	}
	u.ExpressionAttributeNames["#p"] = "ProjectID"
	u.ExpressionAttributeValues[":oldp"] = str(old.ProjectID)
	cond := *u.ConditionExpression + " AND #p = :oldp"
	if old.ProjectID == "" {
		cond = *u.ConditionExpression + " AND (attribute_not_exists(#p) OR #p = :oldp)"
	}
	u.ConditionExpression = &cond
	items := []types.TransactWriteItem{{Update: u}}
	if j.ProjectID != "" {
		items = append(items, s.projectRef(j.ProjectID, 1))
	}
	if old.ProjectID != "" {
		items = append(items, s.projectRef(old.ProjectID, -1))
	}
	return s.transact(ctx, "update job", items, func(i int) error {
		switch {
		case i == 0:
			return errs.E(errs.Conflict, "Job %s changed concurrently; retry.", j.ID)
		case i == 1 && j.ProjectID != "":
			return errs.Field("ProjectId", fmt.Sprintf("Project %q does not exist.", j.ProjectID))
		}
		return nil
	})
}

// jobUpdate sets a job's configuration attributes, if the job exists;
// ProjectID only with project (the caller then conditions on the old one,
// so that a concurrent change of project cannot be overwritten without
// moving its reference).
func (s *Store) jobUpdate(j jobs.Job, project bool) (*types.Update, error) {
	cfg, err := attributevalue.MarshalMap(struct {
		Name, ProjectID, SLA, InputLocation, OutputLocation string
		ASG                                                 *jobs.ASGConfig
		AMI                                                 *jobs.AMIConfig
		UpdatedAt                                           any
	}{j.Name, j.ProjectID, j.SLA, j.InputLocation, j.OutputLocation, j.ASG, j.AMI, j.UpdatedAt})
	if err != nil {
		return nil, err
	}
	if !project {
		delete(cfg, "ProjectID")
	}
	var set []string
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	i := 0
	for k, v := range cfg {
		names[fmt.Sprintf("#a%d", i)] = k
		values[fmt.Sprintf(":v%d", i)] = v
		set = append(set, fmt.Sprintf("#a%d = :v%d", i, i))
		i++
	}
	return &types.Update{
		TableName:                 &s.Table,
		Key:                       key(jobPKOf(j.ID), skJob),
		UpdateExpression:          aws.String("SET " + strings.Join(set, ", ")),
		ConditionExpression:       aws.String(exists),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}, nil
}

// DeleteJob implements jobs.Store.
func (s *Store) DeleteJob(ctx context.Context, j jobs.Job) error {
	d := types.TransactWriteItem{Delete: &types.Delete{
		TableName: &s.Table,
		Key:       key(jobPKOf(j.ID), skJob),
		ConditionExpression: aws.String("attribute_exists(PK) AND (attribute_not_exists(ActiveRunID) OR ActiveRunID = :empty)" +
			" AND (attribute_not_exists(KragleJobs) OR KragleJobs = :zero)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":empty": str(""), ":zero": num(0)},
	}}
	items := []types.TransactWriteItem{d, s.accountRef(j.AccountID, -1)}
	if j.ProjectID != "" {
		items = append(items, s.projectRef(j.ProjectID, -1))
	}
	if j.Number > 0 {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Table, Key: key(stackPK(j.Number), skStack)}})
	}
	return s.transact(ctx, "delete job", items, func(i int) error {
		if i == 0 {
			return errs.E(errs.Conflict, "Job %s is executing or a Kragle job (/jobs) is scheduled on it; stop its run or delete that job first.", j.ID)
		}
		return nil
	})
}
