// Package cloud is the boundary to customers' AWS: the compute, Auto Scaling,
// metrics and role-assumption operations batchplane needs, as interfaces the
// run workflow calls. It imports neither HTTP nor the AWS SDK: package
// cloud/aws implements it with aws-sdk-go-v2, package cloud/local on this
// machine (instances are records, launch scripts run as real processes).
package cloud

import (
	"context"
	"errors"
	"time"
)

// Errors implementations return (wrapped) so the workflow can react.
var (
	// ErrInsufficientCapacity: the market (usually spot) has no capacity
	// for the request; the workflow falls back to on-demand.
	ErrInsufficientCapacity = errors.New("cloud: insufficient capacity")
	// ErrNotFound: the named group or instance does not exist.
	ErrNotFound = errors.New("cloud: not found")
	// ErrAccessDenied: the account's role cannot be assumed or lacks a permission.
	ErrAccessDenied = errors.New("cloud: access denied")
)

// Target says where to act: a registered account's role, assumed with its
// ExternalId, in one region.
type Target struct {
	// AccountID is batchplane's account id (A-…), used for caching and tags.
	AccountID  string
	RoleArn    string
	ExternalID string
	Region     string
}

// Market is how an instance is bought.
type Market string

// Markets.
const (
	Spot     Market = "spot"
	OnDemand Market = "on-demand"
)

// Tag keys every launched instance carries.
const (
	TagRun     = "batchplane:run"
	TagJob     = "batchplane:job"
	TagAccount = "batchplane:account"
)

// LaunchSpec asks for Count identical instances.
type LaunchSpec struct {
	RunID, JobID       string
	Market             Market
	Count              int
	InstanceType       string
	ImageID            string
	SubnetIDs          []string
	SecurityGroupIDs   []string
	KeyName            string
	InstanceProfileArn string
	AssociatePublicIP  bool
	// UserData is the launch script (plain text; implementations encode it).
	UserData string
	// ClientToken makes the launch idempotent (at most 64 characters):
	// derive it from run and step so a retried step launches nothing twice.
	ClientToken string
	// Tags are added to TagRun/TagJob/TagAccount.
	Tags map[string]string
}

// Instance states, as EC2 names them.
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
	StateStopping     = "stopping"
	StateStopped      = "stopped"
)

// Instance is one EC2 (or local) instance.
type Instance struct {
	ID               string
	InstanceType     string
	AvailabilityZone string
	SubnetID         string
	PrivateIP        string
	Market           Market
	State            string
	// Healthy is false when status checks (or the local health endpoint) fail.
	Healthy    bool
	LaunchTime time.Time
	// StopTime is when it stopped or terminated, if it has.
	StopTime *time.Time
	Tags     map[string]string
}

// Compute launches, describes and terminates instances.
type Compute interface {
	// Launch starts the instances; with the same ClientToken it returns the
	// instances of the first call instead of launching more.
	Launch(ctx context.Context, t Target, spec LaunchSpec) ([]Instance, error)
	// Terminate is idempotent: terminating a terminated instance is no error.
	Terminate(ctx context.Context, t Target, ids []string) error
	// Describe returns the instances that exist among ids (terminated ones
	// while EC2 still reports them).
	Describe(ctx context.Context, t Target, ids []string) ([]Instance, error)
	// DescribeRun returns every instance tagged with the run.
	DescribeRun(ctx context.Context, t Target, runID string) ([]Instance, error)
}

// Group is an Auto Scaling group with its launch configuration.
type Group struct {
	Name                    string
	MinSize, MaxSize        int
	DesiredCapacity         int
	VPCID                   string
	LaunchConfigurationName string
	LoadBalancerNames       []string
	TargetGroupARNs         []string
	SubnetIDs               []string
	AvailabilityZones       []string
	InstanceIDs             []string
	HealthCheckGracePeriod  int
	DefaultCooldown         int
	Tags                    map[string]string
	SuspendedProcesses      []string
	// From the launch configuration or template:
	InstanceType       string
	ImageID            string
	KeyName            string
	SecurityGroupIDs   []string
	UserData           string
	InstanceProfileArn string
	AssociatePublicIP  bool
	EBSOptimized       bool
}

// AutoScaling reads and steers customers' Auto Scaling groups.
type AutoScaling interface {
	ListGroups(ctx context.Context, t Target) ([]Group, error)
	GetGroup(ctx context.Context, t Target, name string) (Group, error)
	// SetDesiredCapacity sets the group's desired count.
	SetDesiredCapacity(ctx context.Context, t Target, name string, desired int) error
	// SuspendProcesses / ResumeProcesses pause and resume the group's own
	// scaling (Launch, Terminate, HealthCheck, ReplaceUnhealthy, AZRebalance,
	// AlarmNotification, ScheduledActions, AddToLoadBalancer); nil means all.
	SuspendProcesses(ctx context.Context, t Target, name string, processes []string) error
	ResumeProcesses(ctx context.Context, t Target, name string, processes []string) error
	// SetMaxSize changes the group's maximum size (to make room while
	// instances are swapped).
	SetMaxSize(ctx context.Context, t Target, name string, max int) error
	// AttachInstances adds instances to the group (and its load balancers),
	// raising its desired count; it fails beyond the maximum size, as AWS
	// does. DetachInstances removes them (lowering desired) without
	// terminating.
	AttachInstances(ctx context.Context, t Target, name string, ids []string) error
	DetachInstances(ctx context.Context, t Target, name string, ids []string) error
}

// Metrics reads utilisation.
type Metrics interface {
	// AverageCPU returns the mean CPUUtilization (percent) of the instances
	// over [from, to); ok is false when there are no datapoints.
	AverageCPU(ctx context.Context, t Target, ids []string, from, to time.Time) (avg float64, ok bool, err error)
}

// Roles checks that an account's role can be assumed (STS AssumeRole with
// the account's ExternalId in AWS).
type Roles interface {
	Check(ctx context.Context, t Target) error
}

// Cloud bundles the operations the workflow needs.
type Cloud struct {
	Compute     Compute
	AutoScaling AutoScaling
	Metrics     Metrics
	Roles       Roles
	// LoadBalancing is nil where nothing registers instances (the HTTP
	// functions); the run workflow needs it for AMI jobs with load balancers.
	LoadBalancing LoadBalancing
}

// LoadBalancers are where an AMI job's instances serve traffic: classic
// ELBs by name, or ALB/NLB target groups by ARN (a job has one kind).
type LoadBalancers struct {
	ClassicNames    []string
	TargetGroupARNs []string
}

// Empty reports whether there is nothing to register with.
func (l LoadBalancers) Empty() bool { return len(l.ClassicNames) == 0 && len(l.TargetGroupARNs) == 0 }

// LoadBalancing registers instances with load balancers. Both calls are
// idempotent: registering a registered instance or deregistering one that
// is gone is not an error.
type LoadBalancing interface {
	Register(ctx context.Context, t Target, lb LoadBalancers, ids []string) error
	// Deregister is called before an instance is terminated, so the load
	// balancer drains its connections rather than failing them.
	Deregister(ctx context.Context, t Target, lb LoadBalancers, ids []string) error
}
