package api

import (
	"net/http"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/jobs"
)

// appsRoutes binds the routes of the apps function: the Auto Scaling Group
// and AMI apps' jobs, their account's groups, and executing them.
func (s *Server) appsRoutes() []endpoint {
	return []endpoint{
		op("asg.groups", http.StatusOK, data, s.handleGroups),
		op("asg.group", http.StatusOK, data, s.handleGroup),
		op("asg.get", http.StatusOK, named("Job"), s.handleASGJobGet),
		op("asg.add", http.StatusCreated, named("Job"), jobAdd[asgJobAddInput](s, jobs.AppASG)),
		op("asg.update", http.StatusOK, named("Job"), jobUpdate[asgJobInput](s, jobs.AppASG)),
		op("asg.delete", http.StatusOK, named("IsDeleted"), s.handleJobDelete(jobs.AppASG)),
		op("asg.execute", http.StatusAccepted, named("RunRequestId"), s.handleExecute(jobs.AppASG)),
		op("ami.get", http.StatusOK, named("Job"), s.handleAMIJobGet),
		op("ami.add", http.StatusCreated, named("Job"), jobAdd[amiJobAddInput](s, jobs.AppAMI)),
		op("ami.update", http.StatusOK, named("Job"), jobUpdate[amiJobInput](s, jobs.AppAMI)),
		op("ami.delete", http.StatusOK, named("IsDeleted"), s.handleJobDelete(jobs.AppAMI)),
		op("ami.execute", http.StatusAccepted, named("RunRequestId"), s.handleExecute(jobs.AppAMI)),
	}
}

// jobInput is the body of the apps' add and update. The seed lists the AMI
// scaling policies as two unnamed blocks; they are sent as ScalingPolicies.
// Members tagged only:"asg" or only:"ami" belong to one app: the other
// app's body decodes them too, so that the domain can say they do not
// apply, but its schema leaves them out.
type jobInput struct {
	AccountID      *string `json:"AccountId"`
	Name           *string
	BaseRegion     *string
	ProjectID      *string `json:"ProjectId"`
	SLA            *string
	InputLocation  *string
	OutputLocation *string

	AutoScalingGroupName       *string `only:"asg"`
	MinOnDemandInstanceCount   *int
	ReinstateOnStop            *bool `only:"asg"`
	ReplaceUnhealthyInstances  *bool
	RestrictToSelectedInstance *bool
	StandBy                    *bool `only:"asg"`
	SuspendScalingOperations   *bool `only:"asg"`

	AmiID                    *string               `json:"AmiId" only:"ami"`
	InstanceType             *string               `only:"ami"`
	KeyPair                  *string               `only:"ami"`
	LaunchScript             *string               `only:"ami"`
	InstanceProfileArn       *string               `only:"ami"`
	VpcID                    *string               `json:"VpcId" only:"ami"`
	SubnetIDs                *[]string             `json:"SubnetIds" only:"ami"`
	SecurityGroupIDs         *[]string             `json:"SecurityGroupIds" only:"ami"`
	ElasticLoadBalancerNames *[]string             `only:"ami"`
	TargetGroupARNs          *[]string             `only:"ami"`
	AssociatePublicIPAddress *bool                 `json:"AssociatePublicIpAddress" only:"ami"`
	DesiredInstanceCount     *int                  `only:"ami"`
	MinInstanceCount         *int                  `only:"ami"`
	MaxInstanceCount         *int                  `only:"ami"`
	HealthCheckGracePeriod   *int                  `only:"ami"`
	ScalingPolicies          *[]scalingPolicyInput `only:"ami"`
}

// The bodies of each app's add and update: one decoding (jobInput), four
// schemas.
type (
	asgJobInput    jobInput
	asgJobAddInput jobInput
	amiJobInput    jobInput
	amiJobAddInput jobInput
)

func (asgJobInput) variant() string    { return "asg" }
func (asgJobAddInput) variant() string { return "asg" }
func (amiJobInput) variant() string    { return "ami" }
func (amiJobAddInput) variant() string { return "ami" }

func (asgJobAddInput) requiredFields() []string {
	return []string{"AccountId", "Name", "AutoScalingGroupName"}
}
func (amiJobAddInput) requiredFields() []string {
	return []string{"AccountId", "Name", "AmiId", "InstanceType"}
}

// jobBody is any of the four.
type jobBody interface {
	asgJobInput | asgJobAddInput | amiJobInput | amiJobAddInput
}

// scalingPolicyInput is an AMI job's scaling policy as a body sends it.
type scalingPolicyInput struct {
	ScaleType           string `enum:"ScaleUp,ScaleDown"`
	MetricName          string `enum:"CPUUtilization"`
	Namespace           string `enum:"AWS/EC2"`
	MetricStatisticType string `enum:"Average"`
	Unit                string
	EvaluationPeriods   int
	Period              int
	ScaleAt             float64
	ScaleFactor         float64
}

func (in jobInput) domain() jobs.Input {
	var pol *[]jobs.ScalingPolicy
	if in.ScalingPolicies != nil {
		ps := make([]jobs.ScalingPolicy, len(*in.ScalingPolicies))
		for i, p := range *in.ScalingPolicies {
			ps[i] = jobs.ScalingPolicy(p)
		}
		pol = &ps
	}
	return jobs.Input{Name: in.Name, AccountID: in.AccountID, BaseRegion: in.BaseRegion, ProjectID: in.ProjectID, SLA: in.SLA,
		InputLocation: in.InputLocation, OutputLocation: in.OutputLocation,
		AutoScalingGroupName: in.AutoScalingGroupName, MinOnDemandInstanceCount: in.MinOnDemandInstanceCount,
		ReinstateOnStop: in.ReinstateOnStop, ReplaceUnhealthyInstances: in.ReplaceUnhealthyInstances,
		RestrictToSelectedInstance: in.RestrictToSelectedInstance, StandBy: in.StandBy, SuspendScalingOperations: in.SuspendScalingOperations,
		AmiID: in.AmiID, InstanceType: in.InstanceType, KeyPair: in.KeyPair, LaunchScript: in.LaunchScript,
		InstanceProfileArn: in.InstanceProfileArn, VpcID: in.VpcID, SubnetIDs: in.SubnetIDs, SecurityGroupIDs: in.SecurityGroupIDs,
		ElasticLoadBalancerNames: in.ElasticLoadBalancerNames, TargetGroupARNs: in.TargetGroupARNs,
		AssociatePublicIPAddress: in.AssociatePublicIPAddress, DesiredInstanceCount: in.DesiredInstanceCount,
		MinInstanceCount: in.MinInstanceCount, MaxInstanceCount: in.MaxInstanceCount,
		HealthCheckGracePeriod: in.HealthCheckGracePeriod, ScalingPolicies: pol}
}

// jobAdd handles "POST /api/v2/apps/AutoScalingGroup/Add" and
// "POST /api/v2/apps/Ami/Add".
func jobAdd[In jobBody](s *Server, app string) func(*http.Request, *In) (*jobSummaryJSON, error) {
	return func(r *http.Request, in *In) (*jobSummaryJSON, error) {
		j, err := s.deps.Jobs.Create(r.Context(), app, jobInput(*in).domain())
		if err != nil {
			return nil, err
		}
		setLocation(r, appPath(app)+j.ID)
		out := jobSummary(j)
		return &out, nil
	}
}

func appPath(app string) string {
	if app == jobs.AppAMI {
		return "/api/v2/apps/Ami/"
	}
	return "/api/v2/apps/AutoScalingGroup/"
}

// jobUpdate handles "PUT /api/v2/apps/AutoScalingGroup/{id}" and
// "PUT /api/v2/apps/Ami/{id}".
func jobUpdate[In jobBody](s *Server, app string) func(*http.Request, *In) (*jobSummaryJSON, error) {
	return func(r *http.Request, in *In) (*jobSummaryJSON, error) {
		j, err := s.deps.Jobs.Update(r.Context(), app, Param(r, "id"), jobInput(*in).domain())
		if err != nil {
			return nil, err
		}
		out := jobSummary(j)
		return &out, nil
	}
}

// handleJobDelete handles "DELETE /api/v2/apps/AutoScalingGroup/{id}" and
// "DELETE /api/v2/apps/Ami/{id}".
func (s *Server) handleJobDelete(app string) func(*http.Request, *noBody) (bool, error) {
	return func(r *http.Request, _ *noBody) (bool, error) {
		if err := s.deps.Jobs.Delete(r.Context(), app, Param(r, "id")); err != nil {
			return false, err
		}
		return true, nil
	}
}

// handleExecute handles "POST /api/v2/apps/AutoScalingGroup/{id}/execute"
// and "POST /api/v2/apps/Ami/{id}/execute": step 1 of executing a job. The
// answer is the RunRequestId that "GET /api/runs/Check/{id}" turns into a
// run id.
func (s *Server) handleExecute(app string) func(*http.Request, *emptyBody) (string, error) {
	return func(r *http.Request, _ *emptyBody) (string, error) {
		id, err := s.deps.Runs.Execute(r.Context(), Param(r, "id"), app)
		if err != nil {
			return "", err
		}
		setLocation(r, "/api/runs/Check/"+id)
		return id, nil
	}
}

// asgJobJSON is an ASG job as "GET /api/v2/apps/AutoScalingGroup/{id}" shows it.
type asgJobJSON struct {
	ID                         string `json:"Id" pattern:"^W-[0-9A-F]{8}$"`
	AccountName                string
	SuspendScalingOperations   bool
	StandBy                    bool
	AccountID                  string `json:"AccountId"`
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
	ID                         string `json:"Id" pattern:"^W-[0-9A-F]{8}$"`
	AccountName                string
	AccountID                  string `json:"AccountId"`
	BaseRegion                 string
	Name                       string
	AmiID                      string `json:"AmiId"`
	InstanceType               string
	KeyPair                    string
	LaunchScript               string
	InstanceProfileArn         string
	VpcID                      string   `json:"VpcId"`
	SubnetIDs                  []string `json:"SubnetIds"`
	SecurityGroupIDs           []string `json:"SecurityGroupIds"`
	ElasticLoadBalancerNames   []string
	TargetGroupARNs            []string
	AssociatePublicIPAddress   bool `json:"AssociatePublicIpAddress"`
	DesiredInstanceCount       int
	MinInstanceCount           int
	MaxInstanceCount           int
	MinOnDemandInstanceCount   int
	HealthCheckGracePeriod     int
	ReplaceUnhealthyInstances  bool
	RestrictToSelectedInstance bool
	ScalingPolicies            []scalingPolicyJSON
}

// scalingPolicyJSON is an AMI job's scaling policy as its job shows it.
type scalingPolicyJSON scalingPolicyInput

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// job reads a job of app and its account's name.
func (s *Server) job(r *http.Request, app string) (jobs.Job, string, error) {
	j, a, err := s.deps.Jobs.GetWithAccount(r.Context(), app, Param(r, "id"))
	if err != nil {
		return jobs.Job{}, "", err
	}
	return j, a.Name, nil
}

// handleASGJobGet handles "GET /api/v2/apps/AutoScalingGroup/{id}".
func (s *Server) handleASGJobGet(r *http.Request, _ *noBody) (*asgJobJSON, error) {
	j, name, err := s.job(r, jobs.AppASG)
	if err != nil {
		return nil, err
	}
	c := j.ASG
	return &asgJobJSON{ID: j.ID, AccountName: name, SuspendScalingOperations: c.SuspendScalingOperations,
		StandBy: c.StandBy, AccountID: j.AccountID, BaseRegion: j.BaseRegion, Name: j.Name, AutoScalingGroupName: c.AutoScalingGroupName,
		MinOnDemandInstanceCount: c.MinOnDemandInstanceCount, RestrictToSelectedInstance: c.RestrictToSelectedInstance,
		ReplaceUnhealthyInstances: c.ReplaceUnhealthyInstances, ReinstateOnStop: c.ReinstateOnStop}, nil
}

// handleAMIJobGet handles "GET /api/v2/apps/Ami/{id}".
func (s *Server) handleAMIJobGet(r *http.Request, _ *noBody) (*amiJobJSON, error) {
	j, name, err := s.job(r, jobs.AppAMI)
	if err != nil {
		return nil, err
	}
	c := j.AMI
	pol := make([]scalingPolicyJSON, len(c.ScalingPolicies))
	for i, p := range c.ScalingPolicies {
		pol[i] = scalingPolicyJSON(p)
	}
	return &amiJobJSON{ID: j.ID, AccountName: name, AccountID: j.AccountID, BaseRegion: j.BaseRegion,
		Name: j.Name, AmiID: c.AmiID, InstanceType: c.InstanceType, KeyPair: c.KeyPair, LaunchScript: c.LaunchScript,
		InstanceProfileArn: c.InstanceProfileArn, VpcID: c.VpcID, SubnetIDs: nonNil(c.SubnetIDs), SecurityGroupIDs: nonNil(c.SecurityGroupIDs),
		ElasticLoadBalancerNames: nonNil(c.ElasticLoadBalancerNames), TargetGroupARNs: nonNil(c.TargetGroupARNs),
		AssociatePublicIPAddress: c.AssociatePublicIPAddress, DesiredInstanceCount: c.DesiredInstanceCount,
		MinInstanceCount: c.MinInstanceCount, MaxInstanceCount: c.MaxInstanceCount, MinOnDemandInstanceCount: c.MinOnDemandInstanceCount,
		HealthCheckGracePeriod: c.HealthCheckGracePeriod, ReplaceUnhealthyInstances: c.ReplaceUnhealthyInstances,
		RestrictToSelectedInstance: c.RestrictToSelectedInstance, ScalingPolicies: pol}, nil
}

// groupRefJSON is an Auto Scaling group in its account's list.
type groupRefJSON struct {
	ID   string `json:"Id"`
	Name string
}

// handleGroups handles "GET /api/Accounts/{id}/AutoScalingGroups?region=".
func (s *Server) handleGroups(r *http.Request, _ *noBody) (*[]groupRefJSON, error) {
	gs, err := s.deps.Jobs.ListGroups(r.Context(), Param(r, "id"), queryGet(r.URL.Query(), "region"))
	if err != nil {
		return nil, err
	}
	out := make([]groupRefJSON, len(gs))
	for i, g := range gs {
		out[i] = groupRefJSON{ID: g.Name, Name: g.Name}
	}
	return &out, nil
}

// handleGroup handles "GET /api/Accounts/{id}/AutoScalingGroups/{name}?region=".
func (s *Server) handleGroup(r *http.Request, _ *noBody) (*groupDetailJSON, error) {
	g, err := s.deps.Jobs.Group(r.Context(), Param(r, "id"), queryGet(r.URL.Query(), "region"), Param(r, "name"))
	if err != nil {
		return nil, err
	}
	out := groupDetail(g)
	return &out, nil
}

// groupDetailJSON is an Auto Scaling group as seed 001 shows it. The seed's
// members batchplane has nothing for are null or empty.
type groupDetailJSON struct {
	AutoScalingGroup      groupJSON
	LaunchConfiguration   launchConfigurationJSON
	LoadBalancers         map[string]string
	TargetGroupARNsDetail *[]string
	Queues                *[]string
	Triggers              *[]string
}

// groupJSON is the group part of groupDetailJSON.
type groupJSON struct {
	Name                    string
	MinCount                int
	MaxCount                int
	DesiredCount            int
	VPCID                   string `json:"VPCId"`
	LaunchConfigurationName string
	LoadBalancerNames       []string
	SubnetList              []string
	ActiveInstances         []string
	HealthCheckGracePeriod  float64
	DefaultCooldown         int
	Tags                    map[string]string
	AvailabilityZones       []string
	PlacementGroup          *string
	TargetGroupARNs         []string
}

// launchConfigurationJSON is the launch configuration part of groupDetailJSON.
type launchConfigurationJSON struct {
	Name                     string
	InstanceType             string
	AmiID                    string `json:"AmiId"`
	UserData                 *string
	KeyName                  string
	IamInstanceProfile       *string
	SecurityGroups           []string
	AssociatePublicIPAddress bool `json:"AssociatePublicIpAddress"`
	BlockDeviceMappings      []struct{}
	EbsOptimized             bool
	KernelID                 *string `json:"KernelId"`
	RAMDiskID                *string `json:"RamDiskId"`
	PlacementTenancy         *string
}

func groupDetail(g cloud.Group) groupDetailJSON {
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
	return groupDetailJSON{
		AutoScalingGroup: groupJSON{
			Name: g.Name, MinCount: g.MinSize, MaxCount: g.MaxSize, DesiredCount: g.DesiredCapacity,
			VPCID: g.VPCID, LaunchConfigurationName: g.LaunchConfigurationName, LoadBalancerNames: nonNil(g.LoadBalancerNames),
			SubnetList: nonNil(g.SubnetIDs), ActiveInstances: nonNil(g.InstanceIDs), HealthCheckGracePeriod: float64(g.HealthCheckGracePeriod),
			DefaultCooldown: g.DefaultCooldown, Tags: tags, AvailabilityZones: nonNil(g.AvailabilityZones),
			TargetGroupARNs: nonNil(g.TargetGroupARNs),
		},
		LaunchConfiguration: launchConfigurationJSON{
			Name: g.LaunchConfigurationName, InstanceType: g.InstanceType, AmiID: g.ImageID, UserData: userData,
			KeyName: g.KeyName, IamInstanceProfile: profile, SecurityGroups: nonNil(g.SecurityGroupIDs),
			AssociatePublicIPAddress: g.AssociatePublicIP, BlockDeviceMappings: []struct{}{}, EbsOptimized: g.EBSOptimized,
		},
		LoadBalancers: map[string]string{},
	}
}
