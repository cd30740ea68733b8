package diagnose

import (
	"fmt"
	"strings"

	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/tlswire"
)

// HelloVersions renders the client's highest and offered versions, saying
// where a partial fact comes from when the capture cut the hello.
func HelloVersions(ch *tlswire.ClientHello) (clientMax string, offered []string) {
	if ch == nil {
		return "", nil
	}
	if ch.VersionsKnown() {
		for _, v := range ch.Offered() {
			offered = append(offered, v.String())
		}
		return ch.MaxVersion().String(), offered
	}
	// Cut before supported_versions: legacy_version is a lower bound of
	// the client's highest version (RFC 8446 §4.1.2), and without it only
	// the record version is left.
	v := "(hello truncated)"
	switch {
	case ch.LegacyVersion != 0:
		v = "≥ " + ch.LegacyVersion.String() + " (hello truncated)"
	case ch.RecordVersion != 0:
		v = "≥ " + ch.RecordVersion.String() + " (record version only, hello truncated)"
	}
	return v, []string{v}
}

// SelectedVersion renders the version the server selected, with where a
// partial fact comes from: a ServerHello cut before its extensions, or a
// HelloRetryRequest.
func SelectedVersion(c *packet.Conversation) string {
	sel := ""
	if sh := c.ServerHello; sh != nil {
		sel = c.NegotiatedVersion().String()
		if !sh.VersionKnown() {
			// A TLS 1.3 ServerHello also says TLS 1.2 in its legacy field.
			sel = "≥ " + sel + " (hello truncated)"
		}
	}
	if c.HelloRetry != nil {
		if c.ServerHello == nil {
			return "HelloRetryRequest, no final ServerHello"
		}
		sel += " (after HelloRetryRequest)"
	}
	return sel
}

// isTLS reports whether a conversation carried TLS: a hello, TLS records
// of a handshake before the capture, or a failed handshake.
func isTLS(c *packet.Conversation) bool {
	return c.HandshakeCaptured() || c.MidStream || c.Outcome().Failed()
}

// target names a connection's server for a verdict: "name (address)", or
// through a proxy "name via proxy address".
func target(ct ConnectionTLS, c *packet.Conversation) string {
	if c.Proxy != nil {
		name := ct.SNI
		if name == "" {
			name = ct.Server // the CONNECT target
		}
		return fmt.Sprintf("%s via proxy %s", name, ct.Proxy)
	}
	return orDash(ct.SNI) + " (" + ct.Server + ")"
}

// outcomeNotes says what the row's outcome rests on when it is partial.
func outcomeNotes(c *packet.Conversation) string {
	var notes []string
	if c.MidStream {
		if v := max(c.RecordVersion[packet.Client], c.RecordVersion[packet.Server]); v != 0 {
			notes = append(notes, "handshake not captured, record version "+v.String())
		}
	}
	if p := c.Proxy; p != nil && p.Status >= 200 && p.Status <= 299 {
		notes = append(notes, fmt.Sprintf("tunnel via proxy, %d", p.Status))
	}
	if c.Truncated {
		notes = append(notes, "frames cut by the capture's snap length")
	} else if c.Gaps {
		notes = append(notes, "capture incomplete")
	}
	return strings.Join(notes, "; ")
}
