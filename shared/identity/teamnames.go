package identity

import (
	"context"
	"sync"
	"time"
)

// teamNamesTTL bounds how stale a team name shown on another object (an
// account's Teams) can be in a process that did not make the rename.
const teamNamesTTL = 30 * time.Second

// teamNames caches team id → name for rendering; teams are few and names
// rarely change, so objects store team ids and a get stays one request.
type teamNames struct {
	mu     sync.Mutex
	names  map[string]string
	loaded time.Time
}

func (c *teamNames) invalidate() {
	c.mu.Lock()
	c.names = nil
	c.mu.Unlock()
}

// TeamNames returns the names of teams by id, in order; an id whose team no
// longer exists is returned as is.
func (s *Service) TeamNames(ctx context.Context, ids []string) ([]string, error) {
	c := &s.names
	c.mu.Lock()
	defer c.mu.Unlock()
	fresh := c.names != nil && s.Now().Sub(c.loaded) < teamNamesTTL
	if fresh {
		for _, id := range ids {
			if _, ok := c.names[id]; !ok {
				fresh = false
				break
			}
		}
	}
	if !fresh {
		names := map[string]string{}
		tok := ""
		for {
			ts, next, err := s.Store.ListTeams(ctx, nil, Page{Token: tok, Limit: 100})
			if err != nil {
				return nil, err
			}
			for _, t := range ts {
				names[t.ID] = t.Name
			}
			if next == "" {
				break
			}
			tok = next
		}
		c.names, c.loaded = names, s.Now()
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		if n, ok := c.names[id]; ok {
			out[i] = n
		} else {
			out[i] = id
		}
	}
	return out, nil
}
