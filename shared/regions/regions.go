// Package regions is the catalog of cloud regions batchplane knows, served
// by GET /api/caches/regions and used to validate BaseRegion fields.
package regions

import "strings"

// Region is one region of a platform.
type Region struct {
	ID   string
	Name string
}

// Platforms batchplane supports. The seed calls it a "Platform ID" and shows
// accounts with Platform "AmazonWebServices"; "aws", "amazon" and "1" are
// accepted as the same platform.
const (
	PlatformAWS     = "AmazonWebServices"
	PlatformAWSName = "Amazon Web Services"
)

// aws lists the commercial AWS regions.
var aws = []Region{
	{"us-east-1", "US East (N. Virginia)"},
	{"us-east-2", "US East (Ohio)"},
	{"us-west-1", "US West (N. California)"},
	{"us-west-2", "US West (Oregon)"},
	{"af-south-1", "Africa (Cape Town)"},
	{"ap-east-1", "Asia Pacific (Hong Kong)"},
	{"ap-south-1", "Asia Pacific (Mumbai)"},
	{"ap-south-2", "Asia Pacific (Hyderabad)"},
	{"ap-northeast-1", "Asia Pacific (Tokyo)"},
	{"ap-northeast-2", "Asia Pacific (Seoul)"},
	{"ap-northeast-3", "Asia Pacific (Osaka)"},
	{"ap-southeast-1", "Asia Pacific (Singapore)"},
	{"ap-southeast-2", "Asia Pacific (Sydney)"},
	{"ap-southeast-3", "Asia Pacific (Jakarta)"},
	{"ca-central-1", "Canada (Central)"},
	{"eu-central-1", "Europe (Frankfurt)"},
	{"eu-central-2", "Europe (Zurich)"},
	{"eu-west-1", "Europe (Ireland)"},
	{"eu-west-2", "Europe (London)"},
	{"eu-west-3", "Europe (Paris)"},
	{"eu-north-1", "Europe (Stockholm)"},
	{"eu-south-1", "Europe (Milan)"},
	{"me-south-1", "Middle East (Bahrain)"},
	{"me-central-1", "Middle East (UAE)"},
	{"sa-east-1", "South America (Sao Paulo)"},
}

// IsPlatform reports whether name names the AWS platform.
func IsPlatform(name string) bool {
	switch strings.ToLower(name) {
	case "", "aws", "amazon", "amazonwebservices", "amazon web services", "1":
		return true
	}
	return false
}

// List returns the regions of a platform, or false for an unknown platform.
func List(platform string) ([]Region, bool) {
	if !IsPlatform(platform) {
		return nil, false
	}
	return append([]Region(nil), aws...), true
}

// Valid reports whether id is a known AWS region.
func Valid(id string) bool {
	for _, r := range aws {
		if r.ID == id {
			return true
		}
	}
	return false
}
