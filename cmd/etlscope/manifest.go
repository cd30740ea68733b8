package main

import (
	"fmt"
	"os"

	"github.com/etlscope/etlscope/etl/decode"
)

// loadManifest adds the providers of an instrumentation manifest file to d.
func loadManifest(d *decode.Decoder, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	if err := d.LoadManifest(f); err != nil {
		return fmt.Errorf("manifest %s: %w", path, err)
	}
	return nil
}
