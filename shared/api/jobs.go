package api

import (
	"net/http"

	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/routes"
)

// Jobs is the jobs function's binding: functions/jobs serves it (app.HTTP(api.Jobs())),
// so that binary links these handlers and no other function's.
func Jobs() Binding { return Binding{routes.FnJobs, (*Server).jobsRoutes} }

// jobsRoutes binds the routes of the jobs function.
func (s *Server) jobsRoutes() []endpoint {
	return []endpoint{
		op("jobs.list", http.StatusOK, data, s.handleJobsList),
	}
}

// jobSummaryJSON is a job as GET /api/jobs and the apps' add/update show it.
type jobSummaryJSON struct {
	Runs         float64
	IsScheduled  bool
	IsExecuting  bool
	Engine       string `enum:"Cluster"`
	AppName      string `enum:"Auto Scaling Group,AMI"`
	IsPrivateApp bool
	ID           string `json:"Id" pattern:"^W-[0-9A-F]{8}$"`
	Name         string
	// StackNumber is the job's Kragle stack number (stack_id on /jobs;
	// 0 for a job made before stacks were numbered).
	StackNumber int64
}

func jobSummary(j jobs.Job) jobSummaryJSON {
	return jobSummaryJSON{Runs: float64(j.Runs), IsScheduled: j.IsScheduled, IsExecuting: j.IsExecuting(),
		Engine: jobs.EngineCluster, AppName: j.App, ID: j.ID, Name: j.Name, StackNumber: j.Number}
}

// handleJobsList handles "GET /api/jobs" (and Batchly's "GET /api/Jobs").
func (s *Server) handleJobsList(r *http.Request, _ *noBody) (*list[[]jobSummaryJSON], error) {
	pg, err := page(r)
	if err != nil {
		return nil, err
	}
	js, next, err := s.deps.Jobs.List(r.Context(), pg)
	if err != nil {
		return nil, err
	}
	out := make([]jobSummaryJSON, len(js))
	for i, x := range js {
		out[i] = jobSummary(x)
	}
	return &list[[]jobSummaryJSON]{items: out, next: next}, nil
}
