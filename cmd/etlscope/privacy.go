package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/redact"
)

// privacyOptions are the root flags that decide what output may reveal.
type privacyOptions struct {
	showSecrets bool     // print passwords and credential blobs
	redactKey   string   // HMAC key for placeholders stable across runs
	public      []string // more names kept under --redact
}

// redactKeyEnv holds the --redact-key when the flag is not given (keeps the
// key out of shell history and process lists).
const redactKeyEnv = "ETLSCOPE_REDACT_KEY"

func (p *privacyOptions) addFlags(fl *pflag.FlagSet) {
	fl.BoolVar(&p.showSecrets, "show-secrets", false, "print passwords and credential blobs instead of (hidden)")
	fl.StringVar(&p.redactKey, "redact-key", "", "with --redact or redact: derive placeholders from an HMAC of the value with this key, stable across runs (default $"+redactKeyEnv+")")
	fl.StringArrayVar(&p.public, "public-name", nil, "with --redact or redact: also keep this host name (or .suffix) as it is (repeatable)")
}

// applyTo makes dec show or hide secrets as asked.
func (p *privacyOptions) applyTo(dec *decode.Decoder) *decode.Decoder {
	dec.ShowSecrets(p != nil && p.showSecrets)
	return dec
}

// newRedactor returns an empty Redactor configured by the flags.
func (p *privacyOptions) newRedactor() *redact.Redactor {
	o := redact.Options{}
	if p != nil {
		o.Public = p.public
		key := p.redactKey
		if key == "" {
			key = os.Getenv(redactKeyEnv)
		}
		if key != "" {
			o.Key = []byte(key)
		}
	}
	return redact.New(o)
}

// learnRedactor returns a Redactor that has learned the vocabulary of the
// trace (a first pass over the file), so that every command of one trace
// uses the same placeholders and a name is replaced everywhere.
func (p *privacyOptions) learnRedactor(ctx context.Context, t *scan.Trace, manifests []string) (*redact.Redactor, error) {
	r := p.newRedactor()
	dec, err := newDecoder(manifests)
	if err != nil {
		return nil, err
	}
	if err := redact.LearnTrace(ctx, t.File, dec, r); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, badInput(fmt.Errorf("%s: %w", t.Name, err))
	}
	return r, nil
}
