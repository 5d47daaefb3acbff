package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/treue/treue/assets"
	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
)

// seedFile is the format of a program seed file, such as
// assets/demo/program.json.
type seedFile struct {
	Program loyalty.Program  `json:"program"`
	Rewards []loyalty.Reward `json:"rewards"`
	Tills   []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		// KeySHA256 is the hex SHA-256 of the till's API key, so that no key
		// is written in a file. Without it the till gets the dev key in dev
		// mode and cannot start otherwise.
		KeySHA256 string `json:"key_sha256"`
	} `json:"tills"`
	// Operators may call AdminService; their keys are given like the
	// tills'.
	Operators []struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		KeySHA256 string `json:"key_sha256"`
	} `json:"operators"`
}

// seedKeys are the API keys given in dev mode to the seed's tills and
// operators without a key hash; empty means none may lack one.
type seedKeys struct {
	till, operator string
}

// demoSeedName names the embedded demo program in messages.
const demoSeedName = "embedded demo program"

// maxSeedBytes bounds a seed file.
const maxSeedBytes = 1 << 20

// loadSeed returns the seed in path, or the demo program's, with the demo
// rules (assets/demo/rules.json), when path is empty. dev holds the keys
// of tills and operators without a key hash.
func loadSeed(path string, dev seedKeys) (loyalty.Seed, error) {
	data := assets.DemoProgram
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return loyalty.Seed{}, err
		}
		if len(data) > maxSeedBytes {
			return loyalty.Seed{}, fmt.Errorf("seed file %s is larger than %d bytes", path, maxSeedBytes)
		}
	} else {
		path = demoSeedName
	}
	var f seedFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return loyalty.Seed{}, fmt.Errorf("seed %s: %w", path, err)
	}
	seed := loyalty.Seed{Program: f.Program, Rewards: f.Rewards}
	if data := assets.DemoRules; seed.Program.Rules == nil && path == demoSeedName {
		r, err := gamification.ParseRules(data)
		if err != nil {
			return loyalty.Seed{}, fmt.Errorf("demo rules: %w", err)
		}
		seed.Program.Rules = &r
	}
	for _, t := range f.Tills {
		key, hash, err := seedKey(path, "till", t.ID, t.KeySHA256, dev.till)
		if err != nil {
			return loyalty.Seed{}, err
		}
		seed.Tills = append(seed.Tills, loyalty.TillKey{Till: loyalty.Till{ID: t.ID, Name: t.Name, KeyHash: hash}, Key: key})
	}
	for _, o := range f.Operators {
		key, hash, err := seedKey(path, "operator", o.ID, o.KeySHA256, dev.operator)
		if err != nil {
			return loyalty.Seed{}, err
		}
		seed.Operators = append(seed.Operators, loyalty.OperatorKey{Operator: loyalty.Operator{ID: o.ID, Name: o.Name, KeyHash: hash}, Key: key})
	}
	return seed, nil
}

// seedKey returns the key of a till or operator of the seed in path: the
// hash in keySHA256 (hex), or else devKey in plain text.
func seedKey(path, what, id, keySHA256, devKey string) (key string, hash []byte, err error) {
	switch {
	case keySHA256 != "":
		h, err := hex.DecodeString(keySHA256)
		if err != nil {
			return "", nil, fmt.Errorf("seed %s: %s %s: key_sha256: %w", path, what, id, err)
		}
		return "", h, nil
	case devKey != "":
		return devKey, nil, nil
	}
	return "", nil, fmt.Errorf("seed %s: %s %s has no key_sha256; outside dev mode every %s needs one", path, what, id, what)
}
