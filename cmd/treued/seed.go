package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/treue/treue/assets"
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
}

// maxSeedBytes bounds a seed file.
const maxSeedBytes = 1 << 20

// loadSeed returns the seed in path, or the demo program's when path is
// empty. devKey is given to tills without a key hash; empty means none may
// lack one.
func loadSeed(path, devKey string) (loyalty.Seed, error) {
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
		path = "embedded demo program"
	}
	var f seedFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return loyalty.Seed{}, fmt.Errorf("seed %s: %w", path, err)
	}
	seed := loyalty.Seed{Program: f.Program, Rewards: f.Rewards}
	for _, t := range f.Tills {
		tk := loyalty.TillKey{Till: loyalty.Till{ID: t.ID, Name: t.Name}}
		switch {
		case t.KeySHA256 != "":
			h, err := hex.DecodeString(t.KeySHA256)
			if err != nil {
				return loyalty.Seed{}, fmt.Errorf("seed %s: till %s: key_sha256: %w", path, t.ID, err)
			}
			tk.Till.KeyHash = h
		case devKey != "":
			tk.Key = devKey
		default:
			return loyalty.Seed{}, fmt.Errorf("seed %s: till %s has no key_sha256; outside dev mode every till needs one", path, t.ID)
		}
		seed.Tills = append(seed.Tills, tk)
	}
	return seed, nil
}
