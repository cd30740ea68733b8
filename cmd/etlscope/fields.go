package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/etlscope/etlscope/filters"
)

// Field names are checked before a trace is read, like Network Monitor's
// filter check: a name that is neither a built-in field nor a property of a
// schema etlscope knows (the built-in ones and those of --manifest files) is
// a usage error with the closest names suggested. Properties of TraceLogging
// events and of schemas embedded in the trace are only known once it is
// read: write them as Property.Name, which is not checked.

// checkFilterFields checks the unqualified fields of flt against known.
func checkFilterFields(flt *filters.Filter, known []string) error {
	if flt == nil {
		return nil
	}
	for _, ref := range flt.Unqualified() {
		if isKnown(ref.Name, known) {
			continue
		}
		return usageError(fmt.Errorf("bad filter:\n%w", flt.UnknownField(ref, unknownFieldMessage(ref.Name, known))))
	}
	return nil
}

// checkFieldNames checks the --fields names (a "Property." prefix skips
// the check and is removed).
func checkFieldNames(names []string, known []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.TrimSpace(n)
		if rest, ok := cutPrefixFold(n, "Property."); ok {
			out = append(out, rest)
			continue
		}
		if !isKnown(n, known) {
			return nil, usageError(fmt.Errorf("--fields: %s", unknownFieldMessage(n, known)))
		}
		out = append(out, n)
	}
	return out, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func isKnown(name string, known []string) bool {
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func unknownFieldMessage(name string, known []string) string {
	msg := fmt.Sprintf("unknown field %q", name)
	if s := suggest(name, known); len(s) > 0 {
		msg += " (did you mean " + strings.Join(s, ", ") + "?)"
	}
	if isKnown("pid", known) && isKnown("description", known) { // event fields, which have properties
		msg += `; write Property.` + name + ` for a property only known once the trace is read (TraceLogging, embedded schemas)`
	}
	return msg
}

// maxSuggestions bounds the names an unknown-field error suggests.
const maxSuggestions = 3

// suggest returns the known names closest to name by edit distance (case
// does not count), at most maxSuggestions, closest first.
func suggest(name string, known []string) []string {
	type cand struct {
		name string
		d    int
	}
	limit := max(2, len(name)/3)
	var cs []cand
	lname := strings.ToLower(name)
	for _, k := range known {
		lk := strings.ToLower(k)
		d := editDistance(lname, lk)
		if d > limit && !(len(lname) >= 4 && strings.Contains(lk, lname)) {
			continue
		}
		cs = append(cs, cand{k, d})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for _, c := range cs {
		if len(out) == maxSuggestions {
			break
		}
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Levenshtein distance of a and b, counting an
// exchange of two neighbouring characters as one edit (Damerau's
// "transposition", the commonest typo: versoin).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// conversationFields are the fields `conversations --filter` knows (see
// convFields.Lookup).
var conversationFields = []string{"tls.version", "tls.client_max", "tls.offered", "tls.sni", "tls.alert", "tls.cipher",
	"tcp.srcport", "tcp.dstport", "tcp.port", "ip.src", "ip.dst", "pid", "outcome"}
