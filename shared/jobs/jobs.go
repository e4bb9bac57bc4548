// Package jobs holds batchplane's jobs: what to run, where, and how —
// Auto Scaling Group jobs and AMI jobs of cmpute.io (seed 001), with
// Batchly's generic job fields (seed 000). Later issues add tool jobs and
// Kragle's stacks (a Kragle stack is a job). No HTTP, no AWS here.
package jobs

import (
	"context"
	"time"

	"github.com/batchplane/batchplane/shared/identity"
)

// Apps a job can belong to, with the names the API shows.
const (
	AppASG = "Auto Scaling Group"
	AppAMI = "AMI"
)

// EngineCluster is the engine of ASG and AMI jobs.
const EngineCluster = "Cluster"

// Job is something that can be executed into runs.
type Job struct {
	ID string // W-XXXXXXXX
	// Number is the job's stack number: Kragle's integer stack_id
	// (issue 9). Jobs created before it have none (0).
	Number int64
	Name   string
	App    string // AppASG or AppAMI
	// AccountID is the account the job runs in; its teams, read when the
	// job is read, are who sees the job (accounts.Sees).
	AccountID string
	// ProjectID is an optional project (Batchly) of the same account.
	ProjectID  string
	BaseRegion string

	// Batchly's generic job fields.
	SLA            string
	InputLocation  string
	OutputLocation string

	ASG *ASGConfig // when App is AppASG
	AMI *AMIConfig // when App is AppAMI

	Runs        int    // how many runs it has had
	IsScheduled bool   // a Kragle job binds it (the store counts them)
	ActiveRunID string // the run in progress, "" when idle

	CreatedAt time.Time
	UpdatedAt time.Time
}

// IsExecuting reports whether a run is in progress.
func (j Job) IsExecuting() bool { return j.ActiveRunID != "" }

// ASGConfig is an Auto Scaling Group job: batchplane keeps the customer's
// group's desired count with spot instances.
type ASGConfig struct {
	AutoScalingGroupName       string
	MinOnDemandInstanceCount   int
	ReinstateOnStop            bool
	ReplaceUnhealthyInstances  bool
	RestrictToSelectedInstance bool
	StandBy                    bool
	SuspendScalingOperations   bool
}

// AMIConfig is an AMI job: instances launched from an image with a launch
// script as user data, scaled by CPU policies.
type AMIConfig struct {
	AmiID                      string
	InstanceType               string
	KeyPair                    string
	LaunchScript               string
	InstanceProfileArn         string
	VpcID                      string
	SubnetIDs                  []string
	SecurityGroupIDs           []string
	ElasticLoadBalancerNames   []string
	TargetGroupARNs            []string
	AssociatePublicIPAddress   bool
	DesiredInstanceCount       int
	MinInstanceCount           int
	MaxInstanceCount           int
	MinOnDemandInstanceCount   int
	HealthCheckGracePeriod     int
	ReplaceUnhealthyInstances  bool
	RestrictToSelectedInstance bool
	ScalingPolicies            []ScalingPolicy
}

// Scale types.
const (
	ScaleUp   = "ScaleUp"
	ScaleDown = "ScaleDown"
)

// ScalingPolicy scales an AMI job's instances on a CloudWatch metric, as
// seed 001 lists its fields.
type ScalingPolicy struct {
	ScaleType           string // ScaleUp or ScaleDown
	MetricName          string // CPUUtilization
	Namespace           string // AWS/EC2
	MetricStatisticType string // Average
	Unit                string
	EvaluationPeriods   int
	Period              int     // seconds
	ScaleAt             float64 // threshold (percent for CPUUtilization)
	ScaleFactor         float64 // instances to add or remove
}

// Store persists jobs. CreateJob counts a reference on the job's account
// (and project) so neither can be deleted while jobs use it.
type Store interface {
	// NextStackNumber numbers a new job (its Kragle stack number).
	NextStackNumber(ctx context.Context) (int64, error)
	CreateJob(ctx context.Context, j Job) error
	GetJob(ctx context.Context, id string) (Job, error)
	// ListJobs lists one page of every team's jobs (the service keeps the
	// caller's).
	ListJobs(ctx context.Context, p identity.Page) ([]Job, string, error)
	// UpdateJob replaces the job's configuration (not Runs/ActiveRunID),
	// moving its project reference from old's project when it changed.
	UpdateJob(ctx context.Context, old, j Job) error
	// DeleteJob deletes an idle job; errs.Conflict while it is executing
	// or a Kragle job binds it.
	DeleteJob(ctx context.Context, j Job) error
}
