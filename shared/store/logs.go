package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/runs"
)

type logItem struct {
	PK, SK, Type string
	Time         time.Time
	Message      string
	Severity     string
}

// AppendLog implements runs.Store: a marker item per key makes a re-run
// step's line appear once.
func (s *Store) AppendLog(ctx context.Context, runID, k string, l runs.LogLine) error {
	marker, err := put(s.Table, map[string]any{"PK": runPK(runID), "SK": logKeySK(k), "Type": "LogKey"}, notExists)
	if err != nil {
		return err
	}
	line, err := put(s.Table, logItem{PK: runPK(runID), SK: logSK(l.Time, k), Type: "Log",
		Time: l.Time, Message: l.Message, Severity: l.Severity}, "")
	if err != nil {
		return err
	}
	err = s.transact(ctx, "append log", []types.TransactWriteItem{marker, line}, func(i int) error {
		if i == 0 {
			return errs.E(errs.Conflict, "logged already")
		}
		return nil
	})
	if errs.Is(err, errs.Conflict) {
		return nil
	}
	return err
}

// ListLogs implements runs.Store.
func (s *Store) ListLogs(ctx context.Context, runID string, p identity.Page) ([]runs.LogLine, string, error) {
	return listPage(ctx, s, query{pkName: "PK", pk: runPK(runID), skPrefix: logPrefix, forward: false,
		scope: "logs:" + runID, token: p.Token, limit: p.Limit}, "logs", func(it logItem) runs.LogLine {
		return runs.LogLine{Time: it.Time, Message: it.Message, Severity: it.Severity}
	})
}
