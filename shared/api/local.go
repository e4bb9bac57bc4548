package api

import (
	"net/http"
	"strings"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/regions"
)

// LocalCloud is the fault injection of the local cloud (make run only).
type LocalCloud interface {
	CreateGroup(t cloud.Target, g cloud.Group) error
	InjectSpotInterruption(instanceID string) error
	InjectUnhealthy(instanceID string) error
}

// LocalRoutes are the local-only routes and the local cloud they drive.
// Only the local runtime (make run) constructs them, so the Lambda
// binaries link neither these handlers nor fault injection.
type LocalRoutes struct {
	bind  func(*Server) []endpoint
	cloud LocalCloud
}

// NewLocalRoutes returns the local-only routes over the local cloud c.
func NewLocalRoutes(c LocalCloud) *LocalRoutes {
	return &LocalRoutes{bind: (*Server).localRoutes, cloud: c}
}

// localRoutes binds the local-only routes (make run).
func (s *Server) localRoutes() []endpoint {
	return []endpoint{
		op("local.groups.add", http.StatusCreated, data, s.handleLocalGroupAdd),
		op("local.instances.fault", http.StatusAccepted, data, s.handleLocalFault),
	}
}

type localGroupInput struct {
	Name            *string
	Region          *string
	DesiredCapacity *int
	MinSize         *int
	MaxSize         *int
	InstanceType    *string
	LaunchScript    *string
}

func (localGroupInput) requiredFields() []string { return []string{"Name"} }

// handleLocalGroupAdd handles "POST /local/accounts/{id}/AutoScalingGroups":
// a new Auto Scaling group in the local cloud (Administrators only).
func (s *Server) handleLocalGroupAdd(r *http.Request, in *localGroupInput) (bool, error) {
	if s.deps.Local.cloud == nil {
		return false, errs.NotFoundf("No local cloud.")
	}
	// Its launch script runs as a process on this machine.
	if _, err := identity.Admin(r.Context(), "Only Administrators create local Auto Scaling groups."); err != nil {
		return false, err
	}
	a, err := s.deps.Accounts.Get(r.Context(), Param(r, "id"))
	if err != nil {
		return false, err
	}
	g := cloud.Group{MinSize: 0, MaxSize: 10, DesiredCapacity: 1, InstanceType: "t3.micro", ImageID: "ami-local0000000000",
		LaunchConfigurationName: "local-lc", HealthCheckGracePeriod: 60, DefaultCooldown: 300}
	region := a.BaseRegion
	f := errs.Fields{}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		f.Add("Name", "Name is required.")
	} else {
		g.Name = strings.TrimSpace(*in.Name)
	}
	if in.Region != nil {
		if !regions.Valid(*in.Region) {
			f.Add("Region", "Unknown region.")
		}
		region = *in.Region
	}
	for _, p := range []struct {
		dst *int
		v   *int
	}{{&g.DesiredCapacity, in.DesiredCapacity}, {&g.MinSize, in.MinSize}, {&g.MaxSize, in.MaxSize}} {
		if p.v != nil {
			*p.dst = *p.v
		}
	}
	if !(g.MinSize <= g.DesiredCapacity && g.DesiredCapacity <= g.MaxSize) {
		f.Add("DesiredCapacity", "MinSize ≤ DesiredCapacity ≤ MaxSize must hold.")
	}
	if in.InstanceType != nil {
		g.InstanceType = *in.InstanceType
	}
	if in.LaunchScript != nil {
		g.UserData = *in.LaunchScript
	}
	if err := f.Err(); err != nil {
		return false, err
	}
	if err := s.deps.Local.cloud.CreateGroup(a.Target(region), g); err != nil {
		return false, errs.E(errs.Conflict, "%v", err)
	}
	return true, nil
}

type faultInput struct {
	// Fault is "spot-interruption" or "unhealthy".
	Fault string `enum:"spot-interruption,unhealthy"`
}

func (faultInput) requiredFields() []string { return []string{"Fault"} }

// handleLocalFault handles "POST /local/instances/{id}/faults": inject a
// spot interruption or an unhealthy status into a local instance.
func (s *Server) handleLocalFault(r *http.Request, in *faultInput) (bool, error) {
	if s.deps.Local.cloud == nil {
		return false, errs.NotFoundf("No local cloud.")
	}
	// Only instances of a run the caller sees: 404 like the run itself.
	if _, err := s.deps.Runs.RunOfInstance(r.Context(), Param(r, "id")); err != nil {
		return false, err
	}
	var err error
	switch in.Fault {
	case "spot-interruption":
		err = s.deps.Local.cloud.InjectSpotInterruption(Param(r, "id"))
	case "unhealthy":
		err = s.deps.Local.cloud.InjectUnhealthy(Param(r, "id"))
	default:
		err = errs.Field("Fault", `Fault must be "spot-interruption" or "unhealthy".`)
	}
	if err != nil {
		if errs.As(err) == nil {
			err = errs.E(errs.Invalid, "%v", err)
		}
		return false, err
	}
	return true, nil
}
