package batch

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/batchplane/batchplane/shared/cloud"
)

var tool = cloud.BatchTool{ToolID: "T-0a1b2c3d", Version: "1.2.0", Image: "public.ecr.aws/docker/library/alpine:3.20",
	Command: []string{"sh", "-c", "sha256sum \"$0\"", "{file}", "{print $1}"}, CPU: 1.5, Memory: 2048, Filesystems: []string{"fs-12345678"}}

// account is a customer's account as AWS Batch and EC2 answer for it: what
// exists, and how creating it goes. Its answers are the recorded shapes of
// the services' responses.
type account struct {
	env, queue       []string // statuses DescribeX answers in turn ("" = absent), the last repeated
	defs             [][]int32
	createEnvErr     error
	defaultVPC       bool
	taggedSubnets    bool
	envReason        string
	registered       int
	envCalls, qCalls int
}

func next(seq []string, n int) string {
	if len(seq) == 0 {
		return ""
	}
	return seq[min(n, len(seq)-1)]
}

func (a *account) respond(op string, in any) (any, error) {
	switch op {
	case "DescribeComputeEnvironments":
		s := next(a.env, a.envCalls)
		a.envCalls++
		if s == "" {
			return &batch.DescribeComputeEnvironmentsOutput{}, nil
		}
		return &batch.DescribeComputeEnvironmentsOutput{ComputeEnvironments: []types.ComputeEnvironmentDetail{{
			ComputeEnvironmentName: aws.String(ComputeEnvironment), Status: types.CEStatus(s), StatusReason: aws.String(a.envReason)}}}, nil
	case "DescribeJobQueues":
		s := next(a.queue, a.qCalls)
		a.qCalls++
		if s == "" {
			return &batch.DescribeJobQueuesOutput{}, nil
		}
		return &batch.DescribeJobQueuesOutput{JobQueues: []types.JobQueueDetail{{JobQueueName: aws.String(JobQueue), Status: types.JQStatus(s)}}}, nil
	case "CreateComputeEnvironment":
		return &batch.CreateComputeEnvironmentOutput{}, a.createEnvErr
	case "CreateJobQueue":
		return &batch.CreateJobQueueOutput{}, nil
	case "DescribeJobDefinitions":
		var revs []int32
		if len(a.defs) > 0 {
			revs, a.defs = a.defs[0], a.defs[1:]
		}
		out := &batch.DescribeJobDefinitionsOutput{}
		for _, r := range revs {
			name := aws.ToString(in.(*batch.DescribeJobDefinitionsInput).JobDefinitionName)
			out.JobDefinitions = append(out.JobDefinitions, types.JobDefinition{Revision: aws.Int32(r),
				JobDefinitionArn: aws.String(fmt.Sprintf("arn:aws:batch:eu-west-1:123456789012:job-definition/%s:%d", name, r))})
		}
		return out, nil
	case "RegisterJobDefinition":
		a.registered++
		return &batch.RegisterJobDefinitionOutput{}, nil
	case "DeregisterJobDefinition":
		return &batch.DeregisterJobDefinitionOutput{}, nil
	case "DescribeSubnets":
		f := in.(*ec2.DescribeSubnetsInput).Filters[0]
		if aws.ToString(f.Name) == "tag-key" && !a.taggedSubnets {
			return &ec2.DescribeSubnetsOutput{}, nil
		}
		return &ec2.DescribeSubnetsOutput{Subnets: []ec2types.Subnet{{SubnetId: aws.String("subnet-a"), VpcId: aws.String("vpc-1")},
			{SubnetId: aws.String("subnet-b"), VpcId: aws.String("vpc-1")}}}, nil
	case "DescribeVpcs":
		if !a.defaultVPC {
			return &ec2.DescribeVpcsOutput{}, nil
		}
		return &ec2.DescribeVpcsOutput{Vpcs: []ec2types.Vpc{{VpcId: aws.String("vpc-1"), IsDefault: aws.Bool(true)}}}, nil
	case "DescribeSecurityGroups":
		f := in.(*ec2.DescribeSecurityGroupsInput).Filters[1]
		if aws.ToString(f.Name) == "tag-key" {
			return &ec2.DescribeSecurityGroupsOutput{}, nil
		}
		return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: []ec2types.SecurityGroup{{GroupId: aws.String("sg-default")}}}, nil
	}
	return nil, errors.New("unexpected " + op)
}

func TestEnsureTool(t *testing.T) {
	tests := []struct {
		name    string
		acct    account
		wantOps []string
		wantErr error
		errText string
		check   func(t *testing.T, c *capture)
	}{
		{name: "a new account: environment, queue and definition created, waiting for VALID",
			acct: account{env: []string{"", "CREATING", "VALID"}, queue: []string{"", "VALID"}, defs: [][]int32{nil, {1}}, defaultVPC: true},
			wantOps: []string{"DescribeComputeEnvironments", "DescribeSubnets", "DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups",
				"DescribeSecurityGroups", "CreateComputeEnvironment", "DescribeComputeEnvironments", "DescribeComputeEnvironments",
				"DescribeJobQueues", "CreateJobQueue", "DescribeJobQueues", "DescribeJobDefinitions", "RegisterJobDefinition", "DescribeJobDefinitions"},
			check: checkCreated},
		{name: "everything exists: nothing created",
			acct:    account{env: []string{"VALID"}, queue: []string{"VALID"}, defs: [][]int32{{3}}},
			wantOps: []string{"DescribeComputeEnvironments", "DescribeJobQueues", "DescribeJobDefinitions"}},
		{name: "tagged subnets are preferred to the default VPC",
			acct: account{env: []string{"", "VALID"}, queue: []string{"VALID"}, defs: [][]int32{{1}}, taggedSubnets: true},
			wantOps: []string{"DescribeComputeEnvironments", "DescribeSubnets", "DescribeSecurityGroups", "DescribeSecurityGroups",
				"CreateComputeEnvironment", "DescribeComputeEnvironments", "DescribeJobQueues", "DescribeJobDefinitions"}},
		{name: "a concurrent EnsureTool created the environment and registered the definition too: one remains",
			acct: account{env: []string{"", "VALID"}, queue: []string{"VALID"}, defs: [][]int32{nil, {4, 5}}, defaultVPC: true,
				createEnvErr: apiErr("ClientException", "Object already exists")},
			wantOps: []string{"DescribeComputeEnvironments", "DescribeSubnets", "DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups",
				"DescribeSecurityGroups", "CreateComputeEnvironment", "DescribeComputeEnvironments", "DescribeJobQueues",
				"DescribeJobDefinitions", "RegisterJobDefinition", "DescribeJobDefinitions", "DeregisterJobDefinition"},
			check: func(t *testing.T, c *capture) {
				in := c.inputs("DeregisterJobDefinition")[0].(*batch.DeregisterJobDefinitionInput)
				if !strings.HasSuffix(aws.ToString(in.JobDefinition), ":5") {
					t.Errorf("deregistered %s, want the later revision 5", aws.ToString(in.JobDefinition))
				}
			}},
		{name: "an INVALID environment is an error with AWS Batch's reason",
			acct:    account{env: []string{"INVALID"}, envReason: "CLIENT_ERROR - instance profile ecsInstanceRole not found"},
			wantOps: []string{"DescribeComputeEnvironments"}, errText: "ecsInstanceRole not found"},
		{name: "no default VPC and no tagged subnets",
			acct:    account{env: []string{""}},
			wantOps: []string{"DescribeComputeEnvironments", "DescribeSubnets", "DescribeVpcs"}, wantErr: cloud.ErrNotFound},
		{name: "another creation error is an error",
			acct: account{env: []string{""}, defaultVPC: true, createEnvErr: apiErr("AccessDeniedException", "no")},
			wantOps: []string{"DescribeComputeEnvironments", "DescribeSubnets", "DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups",
				"DescribeSecurityGroups", "CreateComputeEnvironment"}, wantErr: cloud.ErrAccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acct := tt.acct
			c := &capture{respond: acct.respond}
			b := newBatch(t, c)
			err := b.EnsureTool(context.Background(), target, tool)
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			case tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)):
				t.Fatalf("err %v, want one saying %q", err, tt.errText)
			case tt.wantErr == nil && tt.errText == "" && err != nil:
				t.Fatal(err)
			}
			if got := c.ops(); !reflect.DeepEqual(got, tt.wantOps) {
				t.Fatalf("ops\n %v\nwant\n %v", got, tt.wantOps)
			}
			if r := b.for_(target); r.batch.Options().Region != target.Region {
				t.Errorf("clients in %q, want the target's region", r.batch.Options().Region)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// checkCreated checks what a new account gets: a managed spot environment
// from 0 vCPUs on the default VPC, a queue on it, the tool's definition.
func checkCreated(t *testing.T, c *capture) {
	ce := c.inputs("CreateComputeEnvironment")[0].(*batch.CreateComputeEnvironmentInput)
	r := ce.ComputeResources
	if ce.Type != types.CETypeManaged || r.Type != types.CRTypeSpot || r.AllocationStrategy != types.CRAllocationStrategySpotCapacityOptimized ||
		!reflect.DeepEqual(r.InstanceTypes, []string{"optimal"}) || aws.ToInt32(r.MinvCpus) != 0 || aws.ToInt32(r.MaxvCpus) != MaxVCPUs ||
		!reflect.DeepEqual(r.Subnets, []string{"subnet-a", "subnet-b"}) || !reflect.DeepEqual(r.SecurityGroupIds, []string{"sg-default"}) ||
		aws.ToString(r.InstanceRole) != InstanceRole || ce.ServiceRole != nil {
		t.Errorf("compute environment %+v %+v", ce, r)
	}
	q := c.inputs("CreateJobQueue")[0].(*batch.CreateJobQueueInput)
	if aws.ToString(q.ComputeEnvironmentOrder[0].ComputeEnvironment) != ComputeEnvironment || aws.ToString(q.JobQueueName) != JobQueue {
		t.Errorf("queue %+v", q)
	}
	d := c.inputs("RegisterJobDefinition")[0].(*batch.RegisterJobDefinitionInput)
	p := d.ContainerProperties
	wantCmd := []string{"sh", "-c", "sha256sum \"$0\"", "Ref::file", "{print $1}"}
	if aws.ToString(d.JobDefinitionName) != DefinitionName(tool.ToolID, tool.Version) || aws.ToString(p.Image) != tool.Image ||
		!reflect.DeepEqual(p.Command, wantCmd) || p.LogConfiguration.LogDriver != types.LogDriverAwslogs {
		t.Errorf("definition %+v, command %q", d, p.Command)
	}
	if got := p.ResourceRequirements; aws.ToString(got[0].Value) != "2" || got[0].Type != types.ResourceTypeVcpu ||
		aws.ToString(got[1].Value) != "2048" || got[1].Type != types.ResourceTypeMemory {
		t.Errorf("resources %+v (1.5 vCPUs round up to 2 on EC2)", got)
	}
	if len(p.Volumes) != 1 || aws.ToString(p.Volumes[0].EfsVolumeConfiguration.FileSystemId) != "fs-12345678" ||
		aws.ToString(p.MountPoints[0].ContainerPath) != "/mnt/fs-12345678" {
		t.Errorf("filesystems %+v %+v", p.Volumes, p.MountPoints)
	}
	if len(c.sleeps) != 1 || c.sleeps[0] != pollEvery {
		t.Errorf("waits %v, want one poll while CREATING", c.sleeps)
	}
}

// TestEnsureToolTwice: the environment and queue are checked once per
// process and account; a second tool only looks for its definition.
// TestEnsureToolWithoutNetwork: a Batch built without WithNetwork (the
// functions that never create a compute environment, so link no EC2)
// refuses to create one, with an error naming the option, and asks EC2
// nothing.
func TestEnsureToolWithoutNetwork(t *testing.T) {
	acct := account{env: []string{""}, defaultVPC: true}
	c := &capture{respond: acct.respond}
	b := newBatch(t, c)
	b.network = nil
	err := b.EnsureTool(context.Background(), target, tool)
	if err == nil || !strings.Contains(err.Error(), "WithNetwork") {
		t.Fatalf("err %v, want one naming WithNetwork", err)
	}
	if got := c.ops(); !reflect.DeepEqual(got, []string{"DescribeComputeEnvironments"}) {
		t.Fatalf("ops %v, want only DescribeComputeEnvironments", got)
	}
}

func TestEnsureToolTwice(t *testing.T) {
	acct := account{env: []string{"VALID"}, queue: []string{"VALID"}, defs: [][]int32{{1}, {1}}}
	c := &capture{respond: acct.respond}
	b := newBatch(t, c)
	other := tool
	other.Version = "1.3.0"
	for _, tl := range []cloud.BatchTool{tool, other} {
		if err := b.EnsureTool(context.Background(), target, tl); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"DescribeComputeEnvironments", "DescribeJobQueues", "DescribeJobDefinitions", "DescribeJobDefinitions"}
	if got := c.ops(); !reflect.DeepEqual(got, want) {
		t.Fatalf("ops %v, want %v", got, want)
	}
	names := c.inputs("DescribeJobDefinitions")
	if aws.ToString(names[0].(*batch.DescribeJobDefinitionsInput).JobDefinitionName) == aws.ToString(names[1].(*batch.DescribeJobDefinitionsInput).JobDefinitionName) {
		t.Error("two versions share a job definition")
	}
}

func TestDefinitionName(t *testing.T) {
	tests := []struct{ tool, version string }{
		{"T-1", "1.0"}, {"T-1", "1_0"}, {"T-1", "1.0.0"}, {"T-2", "1.0"}, {strings.Repeat("x", 200), "v"},
	}
	seen := map[string]bool{}
	valid := func(s string) bool { return len(s) <= 128 && !unsafeName.MatchString(s) }
	for _, tt := range tests {
		n := DefinitionName(tt.tool, tt.version)
		if !valid(n) || seen[n] || n != DefinitionName(tt.tool, tt.version) {
			t.Errorf("DefinitionName(%q, %q) = %q: invalid, not unique or not stable", tt.tool, tt.version, n)
		}
		seen[n] = true
	}
}
