package api

import (
	"net/http"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/jobs"
)

func init() {
	register(func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"jobs.list":  s.handleJobsList,
			"asg.groups": s.handleGroups,
			"asg.group":  s.handleGroup,
			"asg.get":    s.handleJobGet(jobs.AppASG),
			"asg.add":    s.handleJobAdd(jobs.AppASG),
			"asg.update": s.handleJobUpdate(jobs.AppASG),
			"asg.delete": s.handleJobDelete(jobs.AppASG),
			"ami.get":    s.handleJobGet(jobs.AppAMI),
			"ami.add":    s.handleJobAdd(jobs.AppAMI),
			"ami.update": s.handleJobUpdate(jobs.AppAMI),
			"ami.delete": s.handleJobDelete(jobs.AppAMI),
		}
	})
}

// jobSummaryJSON is a job as GET /api/jobs and the apps' add/update show it.
type jobSummaryJSON struct {
	Runs         float64
	IsScheduled  bool
	IsExecuting  bool
	Engine       string
	AppName      string
	IsPrivateApp bool
	Id           string //nolint:revive // documented field name
	Name         string
}

func jobSummary(j jobs.Job) jobSummaryJSON {
	return jobSummaryJSON{Runs: float64(j.Runs), IsScheduled: j.IsScheduled, IsExecuting: j.IsExecuting(),
		Engine: jobs.EngineCluster, AppName: j.App, Id: j.ID, Name: j.Name}
}

// jobInput is the body of the apps' add and update. The seed lists the AMI
// scaling policies as two unnamed blocks; they are sent as ScalingPolicies.
type jobInput struct {
	AccountId      *string //nolint:revive // documented field name
	Name           *string
	BaseRegion     *string
	ProjectId      *string //nolint:revive // Batchly's field
	SLA            *string
	InputLocation  *string
	OutputLocation *string

	AutoScalingGroupName       *string
	MinOnDemandInstanceCount   *int
	ReinstateOnStop            *bool
	ReplaceUnhealthyInstances  *bool
	RestrictToSelectedInstance *bool
	StandBy                    *bool
	SuspendScalingOperations   *bool

	AmiId                    *string //nolint:revive // documented field name
	InstanceType             *string
	KeyPair                  *string
	LaunchScript             *string
	InstanceProfileArn       *string
	VpcId                    *string   //nolint:revive // documented field name
	SubnetIds                *[]string //nolint:revive // documented field name
	SecurityGroupIds         *[]string //nolint:revive // documented field name
	ElasticLoadBalancerNames *[]string
	TargetGroupARNs          *[]string
	AssociatePublicIpAddress *bool //nolint:revive // documented field name
	DesiredInstanceCount     *int
	MinInstanceCount         *int
	MaxInstanceCount         *int
	HealthCheckGracePeriod   *int
	ScalingPolicies          *[]jobs.ScalingPolicy
}

func (in jobInput) domain() jobs.Input {
	return jobs.Input{Name: in.Name, AccountID: in.AccountId, BaseRegion: in.BaseRegion, ProjectID: in.ProjectId, SLA: in.SLA,
		InputLocation: in.InputLocation, OutputLocation: in.OutputLocation,
		AutoScalingGroupName: in.AutoScalingGroupName, MinOnDemandInstanceCount: in.MinOnDemandInstanceCount,
		ReinstateOnStop: in.ReinstateOnStop, ReplaceUnhealthyInstances: in.ReplaceUnhealthyInstances,
		RestrictToSelectedInstance: in.RestrictToSelectedInstance, StandBy: in.StandBy, SuspendScalingOperations: in.SuspendScalingOperations,
		AmiID: in.AmiId, InstanceType: in.InstanceType, KeyPair: in.KeyPair, LaunchScript: in.LaunchScript,
		InstanceProfileArn: in.InstanceProfileArn, VpcID: in.VpcId, SubnetIDs: in.SubnetIds, SecurityGroupIDs: in.SecurityGroupIds,
		ElasticLoadBalancerNames: in.ElasticLoadBalancerNames, TargetGroupARNs: in.TargetGroupARNs,
		AssociatePublicIPAddress: in.AssociatePublicIpAddress, DesiredInstanceCount: in.DesiredInstanceCount,
		MinInstanceCount: in.MinInstanceCount, MaxInstanceCount: in.MaxInstanceCount,
		HealthCheckGracePeriod: in.HealthCheckGracePeriod, ScalingPolicies: in.ScalingPolicies}
}

// handleJobsList handles "GET /api/jobs" (and Batchly's "GET /api/Jobs").
func (s *Server) handleJobsList(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, next, err := s.deps.Jobs.List(r.Context(), pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]jobSummaryJSON, len(list))
	for i, j := range list {
		out[i] = jobSummary(j)
	}
	writeData(w, r, http.StatusOK, out, next)
}

// handleJobAdd handles "POST /api/v2/apps/AutoScalingGroup/Add" and
// "POST /api/v2/apps/Ami/Add".
func (s *Server) handleJobAdd(app string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in jobInput
		if err := decode(r, &in); err != nil {
			writeError(w, r, err)
			return
		}
		j, err := s.deps.Jobs.Create(r.Context(), app, in.domain())
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Location", appPath(app)+j.ID)
		writeNamed(w, r, http.StatusCreated, "Job", jobSummary(j), false, "")
	}
}

func appPath(app string) string {
	if app == jobs.AppAMI {
		return "/api/v2/apps/Ami/"
	}
	return "/api/v2/apps/AutoScalingGroup/"
}

// handleJobUpdate handles "PUT /api/v2/apps/AutoScalingGroup/{id}" and
// "PUT /api/v2/apps/Ami/{id}".
func (s *Server) handleJobUpdate(app string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in jobInput
		if err := decode(r, &in); err != nil {
			writeError(w, r, err)
			return
		}
		j, err := s.deps.Jobs.Update(r.Context(), app, Param(r, "id"), in.domain())
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeNamed(w, r, http.StatusOK, "Job", jobSummary(j), false, "")
	}
}

// handleJobDelete handles "DELETE /api/v2/apps/AutoScalingGroup/{id}" and
// "DELETE /api/v2/apps/Ami/{id}".
func (s *Server) handleJobDelete(app string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.deps.Jobs.Delete(r.Context(), app, Param(r, "id")); err != nil {
			writeError(w, r, err)
			return
		}
		writeNamed(w, r, http.StatusOK, "IsDeleted", true, false, "")
	}
}

// asgJobJSON is an ASG job as "GET /api/v2/apps/AutoScalingGroup/{id}" shows it.
type asgJobJSON struct {
	Id                         string //nolint:revive // documented style
	AccountName                string
	SuspendScalingOperations   bool
	StandBy                    bool
	AccountId                  string //nolint:revive // documented field name
	BaseRegion                 string
	Name                       string
	AutoScalingGroupName       string
	MinOnDemandInstanceCount   int
	RestrictToSelectedInstance bool
	ReplaceUnhealthyInstances  bool
	ReinstateOnStop            bool
}

// amiJobJSON is an AMI job with its whole configuration.
type amiJobJSON struct {
	Id                         string //nolint:revive // documented style
	AccountName                string
	AccountId                  string //nolint:revive // documented field name
	BaseRegion                 string
	Name                       string
	AmiId                      string //nolint:revive // documented field name
	InstanceType               string
	KeyPair                    string
	LaunchScript               string
	InstanceProfileArn         string
	VpcId                      string   //nolint:revive // documented field name
	SubnetIds                  []string //nolint:revive // documented field name
	SecurityGroupIds           []string //nolint:revive // documented field name
	ElasticLoadBalancerNames   []string
	TargetGroupARNs            []string
	AssociatePublicIpAddress   bool //nolint:revive // documented field name
	DesiredInstanceCount       int
	MinInstanceCount           int
	MaxInstanceCount           int
	MinOnDemandInstanceCount   int
	HealthCheckGracePeriod     int
	ReplaceUnhealthyInstances  bool
	RestrictToSelectedInstance bool
	ScalingPolicies            []jobs.ScalingPolicy
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// handleJobGet handles "GET /api/v2/apps/AutoScalingGroup/{id}" and
// "GET /api/v2/apps/Ami/{id}".
func (s *Server) handleJobGet(app string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		j, err := s.deps.Jobs.Get(r.Context(), app, Param(r, "id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		name := ""
		if a, err := s.deps.Accounts.Get(r.Context(), j.AccountID); err == nil {
			name = a.Name
		}
		if c := j.ASG; c != nil {
			writeNamed(w, r, http.StatusOK, "Job", asgJobJSON{Id: j.ID, AccountName: name, SuspendScalingOperations: c.SuspendScalingOperations,
				StandBy: c.StandBy, AccountId: j.AccountID, BaseRegion: j.BaseRegion, Name: j.Name, AutoScalingGroupName: c.AutoScalingGroupName,
				MinOnDemandInstanceCount: c.MinOnDemandInstanceCount, RestrictToSelectedInstance: c.RestrictToSelectedInstance,
				ReplaceUnhealthyInstances: c.ReplaceUnhealthyInstances, ReinstateOnStop: c.ReinstateOnStop}, false, "")
			return
		}
		c := j.AMI
		pol := c.ScalingPolicies
		if pol == nil {
			pol = []jobs.ScalingPolicy{}
		}
		writeNamed(w, r, http.StatusOK, "Job", amiJobJSON{Id: j.ID, AccountName: name, AccountId: j.AccountID, BaseRegion: j.BaseRegion,
			Name: j.Name, AmiId: c.AmiID, InstanceType: c.InstanceType, KeyPair: c.KeyPair, LaunchScript: c.LaunchScript,
			InstanceProfileArn: c.InstanceProfileArn, VpcId: c.VpcID, SubnetIds: nonNil(c.SubnetIDs), SecurityGroupIds: nonNil(c.SecurityGroupIDs),
			ElasticLoadBalancerNames: nonNil(c.ElasticLoadBalancerNames), TargetGroupARNs: nonNil(c.TargetGroupARNs),
			AssociatePublicIpAddress: c.AssociatePublicIPAddress, DesiredInstanceCount: c.DesiredInstanceCount,
			MinInstanceCount: c.MinInstanceCount, MaxInstanceCount: c.MaxInstanceCount, MinOnDemandInstanceCount: c.MinOnDemandInstanceCount,
			HealthCheckGracePeriod: c.HealthCheckGracePeriod, ReplaceUnhealthyInstances: c.ReplaceUnhealthyInstances,
			RestrictToSelectedInstance: c.RestrictToSelectedInstance, ScalingPolicies: pol}, false, "")
	}
}

type groupRefJSON struct {
	Id   string //nolint:revive // documented field name
	Name string
}

// handleGroups handles "GET /api/Accounts/{id}/AutoScalingGroups?region=".
func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request) {
	gs, err := s.deps.Jobs.ListGroups(r.Context(), Param(r, "id"), queryGet(r.URL.Query(), "region"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]groupRefJSON, len(gs))
	for i, g := range gs {
		out[i] = groupRefJSON{Id: g.Name, Name: g.Name}
	}
	writeData(w, r, http.StatusOK, out, "")
}

// handleGroup handles "GET /api/Accounts/{id}/AutoScalingGroups/{name}?region=".
func (s *Server) handleGroup(w http.ResponseWriter, r *http.Request) {
	g, err := s.deps.Jobs.Group(r.Context(), Param(r, "id"), queryGet(r.URL.Query(), "region"), Param(r, "name"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, groupDetail(g), "")
}

func groupDetail(g cloud.Group) map[string]any {
	active := g.InstanceIDs
	if active == nil {
		active = []string{}
	}
	tags := g.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	var userData *string
	if g.UserData != "" {
		userData = &g.UserData
	}
	var profile *string
	if g.InstanceProfileArn != "" {
		profile = &g.InstanceProfileArn
	}
	return map[string]any{
		"AutoScalingGroup": map[string]any{
			"Name": g.Name, "MinCount": g.MinSize, "MaxCount": g.MaxSize, "DesiredCount": g.DesiredCapacity,
			"VPCId": g.VPCID, "LaunchConfigurationName": g.LaunchConfigurationName, "LoadBalancerNames": nonNil(g.LoadBalancerNames),
			"SubnetList": nonNil(g.SubnetIDs), "ActiveInstances": active, "HealthCheckGracePeriod": float64(g.HealthCheckGracePeriod),
			"DefaultCooldown": g.DefaultCooldown, "Tags": tags, "AvailabilityZones": nonNil(g.AvailabilityZones),
			"PlacementGroup": nil, "TargetGroupARNs": nonNil(g.TargetGroupARNs),
		},
		"LaunchConfiguration": map[string]any{
			"Name": g.LaunchConfigurationName, "InstanceType": g.InstanceType, "AmiId": g.ImageID, "UserData": userData,
			"KeyName": g.KeyName, "IamInstanceProfile": profile, "SecurityGroups": nonNil(g.SecurityGroupIDs),
			"AssociatePublicIpAddress": g.AssociatePublicIP, "BlockDeviceMappings": []any{}, "EbsOptimized": g.EBSOptimized,
			"KernelId": nil, "RamDiskId": nil, "PlacementTenancy": nil,
		},
		"LoadBalancers":         map[string]any{},
		"TargetGroupARNsDetail": nil,
		"Queues":                nil,
		"Triggers":              nil,
	}
}
