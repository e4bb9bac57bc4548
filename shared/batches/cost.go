package batches

// Cost is what a batch's finished job attempts cost: each is charged as
// one instance of the catalog's smallest type that fits the batch's
// hardware, for its run time, at the spot price (AWS Batch runs the jobs
// on a SPOT_CAPACITY_OPTIMIZED compute environment, so no hour is
// on-demand). Dollars is nil when the cost cannot be known: the hardware
// fits no priced type or the region is not priced. Attempts still running
// are not in it yet.
type Cost struct {
	InstanceType  string
	SpotHours     float64
	OnDemandHours float64
	Dollars       *float64
}

// Cost returns b's cost from the price catalog.
func (s *Service) Cost(b Batch) Cost {
	c := Cost{SpotHours: float64(b.Counts.RunMillis) / 3.6e6}
	if s.Catalog == nil {
		return c
	}
	t, ok := s.Catalog.Fit(b.Hardware.CPU, b.Hardware.Memory)
	if !ok {
		return c
	}
	c.InstanceType = t
	price, ok := s.Catalog.Hourly(b.Region, t, true)
	if !ok {
		return c
	}
	d := c.SpotHours * price
	c.Dollars = &d
	return c
}
