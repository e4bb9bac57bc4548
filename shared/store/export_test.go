package store

// TeamItemKey returns the key of a team's item (for the tests that write an
// item as an older release did).
func TeamItemKey(id string) (pk, sk string) { return teamPK(id), skTeam }
