package api

import (
	"net/http"
	"time"

	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/runs"
)

func init() {
	register(func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"asg.execute":    s.handleExecute(jobs.AppASG),
			"ami.execute":    s.handleExecute(jobs.AppAMI),
			"runs.check":     s.handleRunCheck,
			"runs.stop":      s.handleRunStop,
			"runs.list":      s.handleRunsList,
			"runs.get":       s.handleRunGet,
			"runs.delete":    s.handleRunDelete,
			"runs.summary":   s.handleRunSummary,
			"runs.instances": s.handleRunInstances,
			"runs.logs":      s.handleRunLogs,
			"runs.rightsize": s.handleRunRightSize,
		}
	})
}

// Date formats as seed 001 prints them.
const (
	runDateLayout  = "02 Jan 2006, 15:04"          // RunDate, EndDate
	longDateLayout = "Monday 02 Jan 2006 15:04:05" // LaunchTime, StopTime, log Time
)

func fmtTime(t *time.Time, layout string) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	s := t.UTC().Format(layout)
	return &s
}

// handleExecute handles "POST /api/v2/apps/AutoScalingGroup/{id}/execute"
// and "POST /api/v2/apps/Ami/{id}/execute": step 1 of executing a job.
func (s *Server) handleExecute(app string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := decodeOptional(r); err != nil {
			writeError(w, r, err)
			return
		}
		id, err := s.deps.Runs.Execute(r.Context(), Param(r, "id"), app)
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Location", "/api/runs/Check/"+id)
		writeNamed(w, r, http.StatusAccepted, "RunRequestId", id, false, "")
	}
}

// decodeOptional accepts an empty body or an empty JSON object.
func decodeOptional(r *http.Request) error {
	if len(body(r)) == 0 {
		return nil
	}
	var none struct{}
	return decode(r, &none)
}

// handleRunCheck handles "GET /api/runs/Check/{id}": step 2, the run id of
// a RunRequestId.
func (s *Server) handleRunCheck(w http.ResponseWriter, r *http.Request) {
	id, err := s.deps.Runs.Check(r.Context(), Param(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, id, "")
}

// handleRunStop handles "PUT /api/runs/{id}": stop a run.
func (s *Server) handleRunStop(w http.ResponseWriter, r *http.Request) {
	if err := decodeOptional(r); err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.deps.Runs.Stop(r.Context(), Param(r, "id")); err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, true, "")
}

// runJSON is a run as Batchly's GET /api/Runs shows it (undocumented
// there; the fields follow cmpute's run summary).
type runJSON struct {
	Id            string //nolint:revive // documented style
	RunRequestId  string //nolint:revive // documented style
	JobId         string //nolint:revive // documented style
	JobName       string
	AppName       string
	AccountId     string //nolint:revive // documented style
	Region        string
	Status        string
	RunDate       *string
	EndDate       *string
	InstanceType  string
	Desired       int
	MinOnDemand   int
	FailureReason *string
}

func runOut(rn runs.Run) runJSON {
	out := runJSON{Id: rn.ID, RunRequestId: rn.RequestID, JobId: rn.JobID, JobName: rn.JobName, AppName: rn.App,
		AccountId: rn.AccountID, Region: rn.Region, Status: rn.Status, RunDate: fmtTime(&rn.RunDate, runDateLayout),
		EndDate: fmtTime(rn.EndDate, runDateLayout), InstanceType: rn.InstanceType, Desired: rn.Desired, MinOnDemand: rn.MinOnDemand}
	if rn.FailureReason != "" {
		out.FailureReason = &rn.FailureReason
	}
	return out
}

// handleRunsList handles "GET /api/Runs", newest first.
func (s *Server) handleRunsList(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, next, err := s.deps.Runs.List(r.Context(), pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]runJSON, len(list))
	for i, rn := range list {
		out[i] = runOut(rn)
	}
	writeData(w, r, http.StatusOK, out, next)
}

// handleRunGet handles "GET /api/Runs/{id}".
func (s *Server) handleRunGet(w http.ResponseWriter, r *http.Request) {
	rn, err := s.deps.Runs.Get(r.Context(), Param(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, runOut(rn), "")
}

// handleRunDelete handles "DELETE /api/Runs/{id}" (finished runs only).
func (s *Server) handleRunDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Runs.Delete(r.Context(), Param(r, "id")); err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, true, "")
}

type runSummaryJSON struct {
	AppName           string
	JobName           string
	JobId             string //nolint:revive // documented field name
	Status            string
	RunDate           *string
	EndDate           *string
	ActualCost        float64
	ActualSavings     float64
	EstimatedCost     float64
	EstimatedSavings  float64
	SavingsPercentage float64
	SpotHours         float64
	OnDemandHours     float64
	IsPrivateApp      bool
}

// handleRunSummary handles "GET /api/v2/runs/{id}/summary".
func (s *Server) handleRunSummary(w http.ResponseWriter, r *http.Request) {
	rn, c, err := s.deps.Runs.Summary(r.Context(), Param(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeNamed(w, r, http.StatusOK, "RunSummary", runSummaryJSON{
		AppName: rn.App, JobName: rn.JobName, JobId: rn.JobID, Status: rn.Status,
		RunDate: fmtTime(&rn.RunDate, runDateLayout), EndDate: fmtTime(rn.EndDate, runDateLayout),
		ActualCost: c.ActualCost, ActualSavings: c.ActualSavings, EstimatedCost: c.EstimatedCost,
		EstimatedSavings: c.EstimatedSavings, SavingsPercentage: c.SavingsPercentage,
		SpotHours: c.SpotHours, OnDemandHours: c.OnDemandHours,
	}, false, "")
}

type elbHealthJSON struct {
	Name                   string
	HealthCheckStatus      string
	HealthCheckDescription string
}

type instanceJSON struct {
	ELBHealthCheck                []elbHealthJSON
	IsHealthy                     bool
	ELBHealthCheckDetailsAsString *string
	InstanceId                    string //nolint:revive // documented field name
	InstanceType                  string
	SubnetId                      string //nolint:revive // documented field name
	AvailabilityZone              string
	LifeCycle                     *string
	Status                        string
	LaunchTime                    *string
	PrivateIpAddress              string //nolint:revive // documented field name
	Name                          *string
	StopTime                      *string
	Distribution                  string
}

// handleRunInstances handles "GET /api/runs/{id}/Instances". LifeCycle is
// "spot" for spot instances and null for on-demand, as EC2 reports it.
func (s *Server) handleRunInstances(w http.ResponseWriter, r *http.Request) {
	list, err := s.deps.Runs.Instances(r.Context(), Param(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]instanceJSON, len(list))
	for i, in := range list {
		var lc *string
		if in.Spot {
			spot := "spot"
			lc = &spot
		}
		out[i] = instanceJSON{ELBHealthCheck: []elbHealthJSON{}, IsHealthy: in.Healthy && in.Alive(),
			InstanceId: in.InstanceID, InstanceType: in.InstanceType, SubnetId: in.SubnetID,
			AvailabilityZone: in.AvailabilityZone, LifeCycle: lc, Status: in.State,
			LaunchTime: fmtTime(&in.LaunchTime, longDateLayout), PrivateIpAddress: in.PrivateIP,
			StopTime: fmtTime(in.StopTime, longDateLayout), Distribution: "None"}
	}
	writeData(w, r, http.StatusOK, out, "")
}

type logJSON struct {
	Message  string
	Time     *string
	Severity string
}

// handleRunLogs handles "GET /api/v2/runs/{id}/logs": the run's timeline,
// newest first.
func (s *Server) handleRunLogs(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, next, err := s.deps.Runs.Logs(r.Context(), Param(r, "id"), pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]logJSON, len(list))
	for i, l := range list {
		out[i] = logJSON{Message: l.Message, Time: fmtTime(&l.Time, longDateLayout), Severity: l.Severity}
	}
	writeNamed(w, r, http.StatusOK, "Logs", out, true, next)
}

// handleRunRightSize handles "GET /api/v2/runs/{id}/RightSizeRecommendations".
func (s *Server) handleRunRightSize(w http.ResponseWriter, r *http.Request) {
	rec, err := s.deps.Runs.RightSize(r.Context(), Param(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeNamed(w, r, http.StatusOK, "Recommendation", rec, false, "")
}
