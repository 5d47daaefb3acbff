// Package valkey is the realtime.Broker on Valkey (or Redis 7): card states
// live in server keys that every replica reads through valkey-go's
// server-assisted client-side cache, and card changes travel over sharded
// pub/sub, so it works on one server, behind sentinels and on a cluster.
package valkey

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"

	vk "github.com/valkey-io/valkey-go"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/realtime"
)

// ErrClosed is returned by Listen when Close ended it or was called before.
// Other methods return valkey-go's ErrClosing after Close.
var ErrClosed = errors.New("valkey broker closed")

// Broker is the realtime.Broker on Valkey. It is safe for concurrent use.
type Broker struct {
	cfg      Config
	client   vk.Client
	channels []string

	closeOnce sync.Once
	done      chan struct{}
}

var _ realtime.Broker = (*Broker)(nil)

// New connects to the servers cfg names and returns a Broker. It returns an
// error naming the addresses when cfg has none or they cannot be reached,
// or when the server lacks RESP3 and client-side caching (Redis before 6).
func New(ctx context.Context, cfg Config) (*Broker, error) {
	cfg = cfg.withDefaults()
	addrs := strings.Join(cfg.Addrs, ",")
	if len(cfg.Addrs) == 0 {
		return nil, errors.New("valkey: no address configured")
	}
	opt := vk.ClientOption{
		InitAddress: cfg.Addrs,
		Username:    cfg.Username,
		Password:    cfg.Password,
		TLSConfig:   cfg.TLS,
	}
	if cfg.SentinelMaster != "" {
		opt.Sentinel = vk.SentinelOption{MasterSet: cfg.SentinelMaster, TLSConfig: cfg.TLS}
	}
	client, err := vk.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("valkey: connect to %s: %w", addrs, err)
	}
	if err := client.Do(ctx, client.B().Ping().Build()).Error(); err != nil {
		client.Close()
		return nil, fmt.Errorf("valkey: ping %s: %w", addrs, err)
	}
	b := &Broker{cfg: cfg, client: client, done: make(chan struct{})}
	for n := range cfg.Channels {
		b.channels = append(b.channels, cfg.Prefix+":cards:{"+strconv.Itoa(n)+"}")
	}
	return b, nil
}

// Close ends running Listens, which return ErrClosed, and closes the
// connections. Closing twice is a no-op; Close always returns nil.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		close(b.done)
		b.client.Close()
	})
	return nil
}

// cardKey returns the server key of a card. It has no hash tag, so a
// cluster spreads one program's cards over all its nodes.
func (b *Broker) cardKey(k loyalty.CardKey) string {
	return b.cfg.Prefix + ":card:" + k.ProgramID + ":" + k.UID
}

// channel returns the pub/sub channel of a card's changes. All changes of
// a card take one channel, which keeps them in order.
func (b *Broker) channel(k loyalty.CardKey) string {
	h := fnv.New32a()
	h.Write([]byte(k.ProgramID))
	h.Write([]byte{0})
	h.Write([]byte(k.UID))
	return b.channels[h.Sum32()%uint32(len(b.channels))]
}
