package jobs

// Service applies job rules on top of a Store.
type Service struct {
	Store Store
}
