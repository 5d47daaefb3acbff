// Package programcache keeps decoded programs, so that the stores need not
// decode a program's configuration (its rules run to kilobytes of JSON) in
// every transaction.
package programcache

import (
	"encoding/json"
	"sync"

	"github.com/treue/treue/loyalty"
)

// Cache maps a program's stored configuration to its decoded Program. It
// holds one entry per program, replaced when the configuration changes.
// The zero Cache is ready to use and safe for concurrent use.
type Cache struct {
	m sync.Map // program id → entry
}

type entry struct {
	config string
	p      loyalty.Program
}

// Decode returns the program id stored as config: from the cache when the
// configuration is the one decoded last time, else decoded and cached. The
// Program returned shares its Rules with every other caller's.
func (c *Cache) Decode(id string, config []byte) (loyalty.Program, error) {
	if e, ok := c.m.Load(id); ok && e.(*entry).config == string(config) {
		return e.(*entry).p, nil
	}
	var p loyalty.Program
	if err := json.Unmarshal(config, &p); err != nil {
		return loyalty.Program{}, err
	}
	p.ID = id
	c.m.Store(id, &entry{config: string(config), p: p})
	return p, nil
}
