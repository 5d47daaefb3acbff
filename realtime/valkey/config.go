package valkey

import (
	"crypto/tls"
	"time"
)

// Defaults of Config.
const (
	DefaultPrefix   = "treue"
	DefaultCardTTL  = 24 * time.Hour
	DefaultLocalTTL = time.Minute
	DefaultChannels = 16
)

// Config says how to reach Valkey (or Redis 7) and how to name things there.
type Config struct {
	// Addrs are host:port addresses: one server, seeds of a cluster, or
	// the sentinels when SentinelMaster is set.
	Addrs []string
	// SentinelMaster names the master set the sentinels at Addrs watch.
	// The sentinels themselves are reached without credentials.
	SentinelMaster string
	// Username and Password authenticate to the servers (ACL or
	// requirepass); both may be empty.
	Username string
	Password string
	// TLS, when set, is used for every connection, sentinels included.
	TLS *tls.Config
	// Prefix starts every key and channel name (default DefaultPrefix), so
	// that several deployments can share a server.
	Prefix string
	// CardTTL is how long the server keeps a cached card after its last
	// put (default DefaultCardTTL).
	CardTTL time.Duration
	// LocalTTL is how long a replica keeps a card it read in its own
	// memory (default DefaultLocalTTL). The server invalidates the copy as
	// soon as the card changes; the TTL only bounds memory.
	LocalTTL time.Duration
	// Channels is how many pub/sub channels the changes are spread over
	// (default DefaultChannels). Every replica must use the same number.
	Channels int
}

// withDefaults returns c with the defaults filled in.
func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.CardTTL <= 0 {
		c.CardTTL = DefaultCardTTL
	}
	if c.LocalTTL <= 0 {
		c.LocalTTL = DefaultLocalTTL
	}
	if c.Channels <= 0 {
		c.Channels = DefaultChannels
	}
	return c
}
