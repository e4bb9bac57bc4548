// Package projects holds Batchly's projects (seed 000): the boundary a job
// runs in — an AWS account, a region and optionally a VPC.
package projects

// Service applies project rules on top of a Store.
type Service struct{}
