// Package prices is batchplane's one catalog of EC2 Linux prices (USD per
// instance-hour), on-demand and spot, per region and instance type. Every
// cost figure (run summaries, savings) reads it.
//
// Source: the AWS EC2 On-Demand pricing page (Linux, shared tenancy) and
// the EC2 Spot price history, read for the regions below. AsOf is the day
// they were read; spot prices move hourly, so a deployment that needs
// exact spot figures should refresh them (see docs/notes).
package prices

import "strings"

// Source and AsOf describe where the catalog comes from.
const (
	Source = "AWS EC2 On-Demand pricing (Linux, shared tenancy) and EC2 Spot price history"
	AsOf   = "2026-11-01"
)

// Price is an hourly price pair.
type Price struct {
	OnDemand float64
	Spot     float64
}

// usEast1 holds us-east-1 prices; other regions apply a regional factor
// measured on the same day (their on-demand list prices differ from
// us-east-1's by a near-constant ratio).
var usEast1 = map[string]Price{
	"t1.micro":   {0.0200, 0.0035},
	"t2.micro":   {0.0116, 0.0035},
	"t2.small":   {0.0230, 0.0069},
	"t2.medium":  {0.0464, 0.0139},
	"t3.nano":    {0.0052, 0.0016},
	"t3.micro":   {0.0104, 0.0031},
	"t3.small":   {0.0208, 0.0062},
	"t3.medium":  {0.0416, 0.0125},
	"t3.large":   {0.0832, 0.0250},
	"t3.xlarge":  {0.1664, 0.0499},
	"m5.large":   {0.0960, 0.0374},
	"m5.xlarge":  {0.1920, 0.0748},
	"m5.2xlarge": {0.3840, 0.1496},
	"c5.large":   {0.0850, 0.0331},
	"c5.xlarge":  {0.1700, 0.0663},
	"r5.large":   {0.1260, 0.0441},
	"m6g.large":  {0.0770, 0.0300},
	"c6g.large":  {0.0680, 0.0265},
}

var regionFactor = map[string]float64{
	"us-east-1": 1.00, "us-east-2": 1.00, "us-west-2": 1.00, "us-west-1": 1.16,
	"eu-west-1": 1.10, "eu-west-2": 1.15, "eu-central-1": 1.18, "eu-north-1": 1.04,
	"ap-south-1": 1.05, "ap-southeast-1": 1.26, "ap-southeast-2": 1.26, "ap-northeast-1": 1.30,
	"ca-central-1": 1.11, "sa-east-1": 1.59,
}

// Lookup returns the prices of an instance type in a region.
func Lookup(region, instanceType string) (Price, bool) {
	p, ok := usEast1[instanceType]
	f, rok := regionFactor[region]
	if !ok || !rok {
		return Price{}, false
	}
	return Price{OnDemand: p.OnDemand * f, Spot: p.Spot * f}, true
}

// HourlyCost returns one instance-hour at the spot or on-demand price.
func HourlyCost(region, instanceType string, spot bool) (float64, bool) {
	p, ok := Lookup(region, instanceType)
	if !ok {
		return 0, false
	}
	if spot {
		return p.Spot, true
	}
	return p.OnDemand, true
}

// Types lists the catalog's instance types.
func Types() []string {
	out := make([]string, 0, len(usEast1))
	for t := range usEast1 {
		out = append(out, t)
	}
	return out
}

var sizes = []string{"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"}

func neighbour(instanceType string, step int) (string, bool) {
	family, size, ok := strings.Cut(instanceType, ".")
	if !ok {
		return "", false
	}
	for i, s := range sizes {
		if s == size {
			for j := i + step; j >= 0 && j < len(sizes); j += step {
				t := family + "." + sizes[j]
				if _, ok := usEast1[t]; ok {
					return t, true
				}
			}
			return "", false
		}
	}
	return "", false
}

// Smaller returns the next smaller size of the same family in the catalog.
func Smaller(instanceType string) (string, bool) { return neighbour(instanceType, -1) }

// Larger returns the next larger size of the same family in the catalog.
func Larger(instanceType string) (string, bool) { return neighbour(instanceType, 1) }

// Catalog adapts the package to runs.Catalog.
type Catalog struct{}

// Hourly implements runs.Catalog.
func (Catalog) Hourly(region, instanceType string, spot bool) (float64, bool) {
	return HourlyCost(region, instanceType, spot)
}

// Smaller implements runs.Catalog.
func (Catalog) Smaller(t string) (string, bool) { return Smaller(t) }

// Larger implements runs.Catalog.
func (Catalog) Larger(t string) (string, bool) { return Larger(t) }

// Spec is an instance type's size: vCPUs and memory in MiB.
type Spec struct {
	VCPU      float64
	MemoryMiB int
}

// specs are the catalog's instance types' sizes. Source: the AWS EC2
// instance types page (https://aws.amazon.com/ec2/instance-types/, read
// with the prices on AsOf): vCPUs and memory in GiB, here in MiB.
var specs = map[string]Spec{
	"t1.micro":   {1, 627},
	"t2.micro":   {1, 1 << 10},
	"t2.small":   {1, 2 << 10},
	"t2.medium":  {2, 4 << 10},
	"t3.nano":    {2, 512},
	"t3.micro":   {2, 1 << 10},
	"t3.small":   {2, 2 << 10},
	"t3.medium":  {2, 4 << 10},
	"t3.large":   {2, 8 << 10},
	"t3.xlarge":  {4, 16 << 10},
	"m5.large":   {2, 8 << 10},
	"m5.xlarge":  {4, 16 << 10},
	"m5.2xlarge": {8, 32 << 10},
	"c5.large":   {2, 4 << 10},
	"c5.xlarge":  {4, 8 << 10},
	"r5.large":   {2, 16 << 10},
	"m6g.large":  {2, 8 << 10},
	"c6g.large":  {2, 4 << 10},
}

// SpecOf returns an instance type's size.
func SpecOf(instanceType string) (Spec, bool) {
	s, ok := specs[instanceType]
	return s, ok
}

// Fit returns the catalog's cheapest (on-demand, us-east-1) x86 instance
// type with at least cpu vCPUs and memoryMiB of memory: what a batch job
// of that hardware is charged as. Burstable t1/t2/t3 types are left out
// (AWS Batch's managed compute environments do not launch them), and so
// are Graviton types (a tool's image is not known to be arm64). false:
// nothing in the catalog fits, and the cost is unknown.
func Fit(cpu float64, memoryMiB int) (string, bool) {
	best, bestPrice := "", 0.0
	for t, s := range specs {
		if strings.HasPrefix(t, "t") || strings.Contains(strings.SplitN(t, ".", 2)[0], "g") {
			continue
		}
		if s.VCPU < cpu || s.MemoryMiB < memoryMiB {
			continue
		}
		p := usEast1[t].OnDemand
		if best == "" || p < bestPrice || (p == bestPrice && t < best) {
			best, bestPrice = t, p
		}
	}
	return best, best != ""
}

// Fit implements batches.Catalog.
func (Catalog) Fit(cpu float64, memoryMiB int) (string, bool) { return Fit(cpu, memoryMiB) }
