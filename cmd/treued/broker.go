package main

import (
	"context"
	"strings"

	"github.com/treue/treue/realtime"
	"github.com/treue/treue/realtime/memory"
	"github.com/treue/treue/realtime/valkey"
)

// openBroker returns the card cache and change feed the configuration asks
// for, and a description of it for the log.
func openBroker(ctx context.Context, cfg Config) (realtime.Broker, string, error) {
	if cfg.ValkeyAddrs == "" {
		return memory.New(), "in process", nil
	}
	var addrs []string
	for a := range strings.SplitSeq(cfg.ValkeyAddrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	b, err := valkey.New(ctx, valkey.Config{
		Addrs:          addrs,
		SentinelMaster: cfg.ValkeySentinelMaster,
		Username:       cfg.ValkeyUsername,
		Password:       cfg.ValkeyPassword,
		Prefix:         cfg.ValkeyPrefix,
	})
	if err != nil {
		return nil, "", err
	}
	desc := "valkey " + strings.Join(addrs, ",")
	if cfg.ValkeySentinelMaster != "" {
		desc += " (sentinel master " + cfg.ValkeySentinelMaster + ")"
	}
	return b, desc, nil
}
