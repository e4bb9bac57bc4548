package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/batchplane/batchplane/shared/batches"
	"github.com/batchplane/batchplane/shared/errs"
)

// batchJobItemJSON is a GET /batches/{batch_id}/jobs item (seed 002).
type batchJobItemJSON struct {
	JobID string            `json:"job_id"`
	LogID *string           `json:"log_id"`
	Args  map[string]string `json:"args"`
}

// batchJobJSON is GET /batches/{batch_id}/jobs/{job_id} (seed 002), with
// the attempt.
type batchJobJSON struct {
	JobID      string            `json:"job_id"`
	LogID      *string           `json:"log_id"`
	Hardware   hardwareJSON      `json:"hardware"`
	Args       map[string]string `json:"args"`
	Status     string            `json:"status" enum:"SUBMITTED,PENDING,RUNNABLE,STARTING,RUNNING,SUCCEEDED,FAILED"`
	Reason     string            `json:"reason"`
	CreateTime time.Time         `json:"create_time"`
	StartTime  *time.Time        `json:"start_time"`
	StopTime   *time.Time        `json:"stop_time"`
	Attempt    int               `json:"attempt"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func args(a map[string]string) map[string]string {
	if a == nil {
		return map[string]string{}
	}
	return a
}

// handleBatchJobs handles "GET /batches/{batch_id}/jobs".
func (s *Server) handleBatchJobs(r *http.Request, _ *noBody) (*list[[]batchJobItemJSON], error) {
	pg, err := barePage(r)
	if err != nil {
		return nil, err
	}
	js, next, err := s.deps.Batches.Jobs(r.Context(), Param(r, "batch_id"), pg)
	if err != nil {
		return nil, err
	}
	out := make([]batchJobItemJSON, len(js))
	for i, j := range js {
		out[i] = batchJobItemJSON{JobID: batches.JobID(j.Index), LogID: optString(j.LogID), Args: args(j.Args)}
	}
	return &list[[]batchJobItemJSON]{items: out, next: next}, nil
}

// handleBatchJob handles "GET /batches/{batch_id}/jobs/{job_id}": a
// one-element array, as seed 002 shows it.
func (s *Server) handleBatchJob(r *http.Request, _ *noBody) (*[]batchJobJSON, error) {
	b, j, err := s.deps.Batches.Job(r.Context(), Param(r, "batch_id"), Param(r, "job_id"))
	if err != nil {
		return nil, err
	}
	return &[]batchJobJSON{{JobID: batches.JobID(j.Index), LogID: optString(j.LogID), Hardware: hardwareOut(b.Hardware),
		Args: args(j.Args), Status: string(j.Status), Reason: j.Reason, CreateTime: j.CreateTime, StartTime: j.StartTime,
		StopTime: j.StopTime, Attempt: j.Attempt}}, nil
}

// batchLogLineJSON is one line of a job's log.
type batchLogLineJSON struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// batchJobLogJSON is a page of a job's log.
type batchJobLogJSON struct {
	LogID     *string            `json:"log_id"`
	Lines     []batchLogLineJSON `json:"lines"`
	NextToken *string            `json:"next_token"`
}

// handleBatchJobLog handles "GET /batches/{batch_id}/jobs/{job_id}/log".
func (s *Server) handleBatchJobLog(r *http.Request, _ *noBody) (*batchJobLogJSON, error) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > batches.MaxLogLines {
			return nil, errs.Field("limit", "limit must be an integer from 1 to 1000.")
		}
		limit = n
	}
	token := q.Get("next_token")
	if len(token) > 2048 {
		return nil, errs.Field("next_token", "next_token must be at most 2048 bytes.")
	}
	j, lines, next, err := s.deps.Batches.Log(r.Context(), Param(r, "batch_id"), Param(r, "job_id"), token, limit)
	if err != nil {
		return nil, err
	}
	out := &batchJobLogJSON{LogID: optString(j.LogID), Lines: make([]batchLogLineJSON, len(lines)), NextToken: optString(next)}
	for i, l := range lines {
		out.Lines[i] = batchLogLineJSON{Time: l.Time, Message: l.Message}
	}
	return out, nil
}
