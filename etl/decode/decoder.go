package decode

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/etlscope/etlscope/etl"
)

// Property is one named value of an event.
type Property struct {
	Name  string
	Value Value
	Kind  PropKind // what the value is about (host, user, credential, …)
	// Off and Len locate the value's bytes in the event's UserData (Len 0
	// for values that have none), for tools that rewrite a trace.
	Off, Len int
}

// Decoded is an event with its properties and description.
type Decoded struct {
	Event                                         *etl.Event
	ProviderName, EventName, TaskName, OpcodeName string
	Properties                                    []Property
	Warning                                       string
	believed                                      bool

	// The description is rendered from the schema's message and the
	// properties when first asked for: most readers (analyze, pcap,
	// conversations) never ask, and rendering was a fifth of analyze's
	// time. desc is the text once rendered (or set directly).
	desc     string
	message  string // the schema's message template ("" lists the properties)
	rendered bool
}

// Description is the event's text: the provider's message with the
// property values substituted, or "Name: Prop=Value, …" when the schema
// has no message.
func (d *Decoded) Description() string {
	if !d.rendered {
		d.desc, d.rendered = render(d.message, d.Properties, d.EventName), true
	}
	return d.desc
}

// AppendDescription appends the text Description returns, without
// building a string when it has not been rendered yet.
func (d *Decoded) AppendDescription(dst []byte) []byte {
	if d.rendered {
		return append(dst, d.desc...)
	}
	return appendRendered(dst, d.message, d.Properties, d.EventName)
}

// setDescription sets a description that is not rendered from the
// properties.
func (d *Decoded) setDescription(s string) { d.desc, d.rendered = s, true }

// Believed reports whether the schema used contains facts that are believed
// rather than verified (providers.md [B]); verdicts resting on them must say
// so.
func (d *Decoded) Believed() bool { return d.believed }

// Prop returns the property called name (case-insensitive).
func (d *Decoded) Prop(name string) (Value, bool) {
	// Callers mostly spell names as the schema does: an exact pass
	// first is several times cheaper than case folding every name.
	for i := range d.Properties {
		if d.Properties[i].Name == name {
			return d.Properties[i].Value, true
		}
	}
	for i := range d.Properties {
		if strings.EqualFold(d.Properties[i].Name, name) {
			return d.Properties[i].Value, true
		}
	}
	return Value{}, false
}

// PropUint returns a numeric property.
func (d *Decoded) PropUint(name string) (uint64, bool) {
	v, ok := d.Prop(name)
	if !ok {
		return 0, false
	}
	return v.Uint()
}

// PropString returns a property rendered as text.
func (d *Decoded) PropString(name string) string {
	v, ok := d.Prop(name)
	if !ok {
		return ""
	}
	return v.String()
}

// Lookup implements filters.Fields: header fields by their names and
// decoded properties by theirs, case-insensitively.
func (d *Decoded) Lookup(name string) (any, bool) {
	ev := d.Event
	key := name
	if hasUpper(name) {
		key = ""
		if len(name) <= len("provider_guid") { // the longest header field name
			key = strings.ToLower(name)
		}
	}
	switch key {
	case "description":
		return d.Description(), true
	case "provider":
		if d.ProviderName != "" {
			return d.ProviderName, true
		}
		return ev.Provider.String(), true
	case "provider_guid", "guid":
		return ev.Provider.String(), true
	case "id":
		return uint64(ev.ID), true
	case "version":
		return uint64(ev.Version), true
	case "level":
		return uint64(ev.Level), true
	case "opcode":
		return uint64(ev.Opcode), true
	case "task":
		return uint64(ev.Task), true
	case "keywords":
		return ev.Keywords, true
	case "pid":
		return uint64(ev.PID), true
	case "tid":
		return uint64(ev.TID), true
	case "cpu":
		return uint64(ev.CPU), true
	case "kind":
		return ev.Kind.String(), true
	case "event", "name":
		return d.EventName, d.EventName != ""
	case "task_name":
		return d.TaskName, d.TaskName != ""
	case "opcode_name":
		return d.OpcodeName, d.OpcodeName != ""
	case "time":
		return ev.Time.UTC().Format("2006-01-02T15:04:05.0000000Z"), true
	}
	v, ok := d.Prop(name)
	if !ok {
		return nil, false
	}
	switch v.Kind {
	case KindInt, KindUint, KindHex, KindPointer, KindBool:
		if v.Kind == KindInt {
			i, _ := v.Int()
			return i, true
		}
		u, _ := v.Uint()
		return u, true
	case KindFloat:
		return v.float(), true
	case KindString:
		return v.s, true
	}
	return v.String(), true
}

// hasUpper reports whether s has an ASCII capital letter.
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// Decoder decodes events. It is not safe for concurrent use: it learns
// metadata (TraceLogging provider names, the OS build) from the events it
// sees.
type Decoder struct {
	schemas    map[schemaKey][]*schema
	osBuild    uint32
	tlNames    map[etl.GUID]string
	ordered    []*schema // reused by order
	decoded    Decoded   // reused
	manifest   map[schemaKey][]*schema
	names      map[etl.GUID]string
	meta       map[metaKey]*schema // schemas embedded in the trace (TRACE_EVENT_INFO)
	metaErrors int
	secrets    bool // show credential values instead of Hidden
}

// Hidden is what a credential value (PropCredential: passwords, tokens,
// credential blobs) decodes to unless ShowSecrets is on, in properties and
// descriptions alike.
const Hidden = "(hidden)"

// ShowSecrets makes the decoder return credential values as they are in
// the trace (etlscope --show-secrets). Off by default: output is ticket-safe.
func (d *Decoder) ShowSecrets(on bool) { d.secrets = on }

// hideSecrets replaces credential values with Hidden.
func (d *Decoder) hideSecrets(props []Property) {
	if d.secrets {
		return
	}
	for i := range props {
		if props[i].Kind == PropCredential {
			props[i].Value = strVal(Hidden)
		}
	}
}

// New returns a decoder with the built-in schemas.
func New() *Decoder {
	return &Decoder{schemas: builtinIndex(), tlNames: map[etl.GUID]string{}, names: map[etl.GUID]string{}, manifest: map[schemaKey][]*schema{}, meta: map[metaKey]*schema{}}
}

// builtinIndex indexes the built-in schemas, once, when a decoder is
// first made.
var builtinIndex = sync.OnceValue(func() map[schemaKey][]*schema { return index(builtinSchemas()) })

// SetOSBuild tells the decoder which Windows build wrote the trace (it
// chooses between layouts that changed without a version bump).
func (d *Decoder) SetOSBuild(b uint32) { d.osBuild = b }

// Observe learns from an event: the OS build from the logfile header
// record, TraceLogging provider names from provider traits.
func (d *Decoder) Observe(ev *etl.Event) {
	if ev.Provider == etl.EventTraceGUID && ev.HookID == 0 && ev.Kind == etl.KindSystem && len(ev.UserData) >= 12 && d.osBuild == 0 {
		d.osBuild = binary.LittleEndian.Uint32(ev.UserData[8:])
	}
	d.observeEventInfo(ev)
	if tr, ok := ev.Ext(etl.ExtProvTraits); ok {
		if _, known := d.tlNames[ev.Provider]; !known && len(tr) > 2 {
			name, _, _ := strings.Cut(string(tr[2:]), "\x00")
			if len(d.tlNames) < 10000 {
				d.tlNames[ev.Provider] = name
			}
		}
	}
}

// providerName returns the best name for g.
func (d *Decoder) providerName(g etl.GUID) string {
	if n := d.names[g]; n != "" {
		return n
	}
	if n := providerNames[g]; n != "" {
		return n
	}
	return d.tlNames[g]
}

// Decode decodes ev. The result is reused by the next call (and aliases
// ev); never nil, never panics: unknown layouts come back as raw hex with a
// Warning.
func (d *Decoder) Decode(ev *etl.Event) *Decoded {
	d.DecodeTo(&d.decoded, ev)
	return &d.decoded
}

// DecodeTo decodes ev into out, reusing the storage of out's properties:
// a reader that keeps several decoded events at once (a batch handed to
// another goroutine) gives each its own Decoded. out aliases ev.
func (d *Decoder) DecodeTo(out *Decoded, ev *etl.Event) {
	*out = Decoded{Event: ev, ProviderName: d.providerName(ev.Provider), Properties: out.Properties[:0], rendered: true} // "" until a schema sets a message
	d.decodeTo(out, ev)
}

func (d *Decoder) decodeTo(out *Decoded, ev *etl.Event) {
	if ev.Kind == etl.KindEventHeader {
		if meta, ok := ev.Ext(etl.ExtEventSchemaTL); ok {
			if d.decodeTL(out, ev, meta) {
				return
			}
		}
		if s := d.metaSchema(ev); s != nil {
			d.decodeSchema(out, ev, []*schema{s})
			return
		}
		k := schemaKey{ev.Provider, ev.ID}
		cands := d.manifest[k]
		if len(cands) == 0 {
			cands = d.schemas[k]
		}
		if len(cands) > 0 {
			d.decodeSchema(out, ev, cands)
			return
		}
	}
	if ev.Kind == etl.KindFull || ev.Kind == etl.KindInstance {
		if s := d.metaSchema(ev); s != nil {
			d.decodeSchema(out, ev, []*schema{s})
			return
		}
	}
	if ev.Kind == etl.KindMessage {
		// WPP / TraceMessage: the format string lives in a TMF file
		// (from the provider's private symbols), which a trace does not
		// carry.
		out.EventName = "WPP"
		out.setDescription(fmt.Sprintf("WPP message %d of %s: %d bytes of arguments (decoding needs the provider's TMF, not in the trace)", ev.MessageNumber, ev.MessageGUID, len(ev.UserData)))
		d.raw(out, ev)
		return
	}
	if ev.Provider == etl.EventTraceGUID && ev.HookID == 0 && ev.Kind == etl.KindSystem {
		d.decodeSchema(out, ev, []*schema{logfileHeader})
		return
	}
	d.raw(out, ev)
	if out.EventName == "" {
		out.setDescription(fmt.Sprintf("%d bytes of event data", len(ev.UserData)))
	}
}

func (d *Decoder) raw(out *Decoded, ev *etl.Event) {
	if len(ev.UserData) > 0 {
		out.Properties = append(out.Properties, Property{Name: "UserData", Value: bytesVal(ev.UserData), Kind: PropOpaque, Len: len(ev.UserData)})
	}
}

// order returns the candidates with those matching the event version first
// and, for Schannel, the layout matching the OS build first.
func (d *Decoder) order(ev *etl.Event, cands []*schema) []*schema {
	if len(cands) == 1 {
		return cands
	}
	out := d.ordered[:0] // reused: decodeSchema is done with it before the next event
	for pass := 0; pass < 2; pass++ {
		for _, s := range cands {
			if (s.version == ev.Version) == (pass == 0) {
				out = append(out, s)
			}
		}
	}
	if ev.Provider == Schannel && d.osBuild != 0 && d.osBuild < 22000 && len(out) > 1 && schannelPrefixed(ev.ID) {
		// Before Windows 11 21H2 the old layout comes first.
		out[0], out[1] = out[1], out[0]
	}
	return out
}

func (d *Decoder) decodeSchema(out *Decoded, ev *etl.Event, cands []*schema) {
	var partial *schema
	ordered := d.order(ev, cands)
	for i, s := range ordered {
		props, n, err := decodeFields(s.fields, ev.UserData, ev.PointerSize, out.Properties[:0])
		out.Properties = props
		if err == nil && (n == len(ev.UserData) || s.trailing) {
			d.finish(out, s)
			if n != len(ev.UserData) && !s.trailing {
				out.Warning = fmt.Sprintf("%d trailing bytes not decoded", len(ev.UserData)-n)
			}
			if d.osBuild == 0 && ev.Provider == Schannel && d.fitsAnother(ev, ordered[i+1:]) {
				out.Warning = "the Windows build is unknown and the payload fits both Schannel layouts (with and without the Windows 11 21H2 caller fields); decoded as the first"
			}
			return
		}
		if err == nil && partial == nil {
			partial = s
		}
	}
	if partial != nil {
		props, n, _ := decodeFields(partial.fields, ev.UserData, ev.PointerSize, out.Properties[:0])
		out.Properties = props
		d.finish(out, partial)
		out.Warning = fmt.Sprintf("layout of %s %d v%d has %d more bytes than known (payload %d bytes); shown as far as known",
			out.ProviderName, ev.ID, ev.Version, len(ev.UserData)-n, len(ev.UserData))
		return
	}
	out.Properties = out.Properties[:0]
	d.raw(out, ev)
	out.EventName = cands[0].name
	out.Warning = fmt.Sprintf("unknown layout for %s %d v%d (payload %d bytes); shown as hex", out.ProviderName, ev.ID, ev.Version, len(ev.UserData))
	out.setDescription(out.Warning + ": " + hexPrefix(ev.UserData))
}

// fitsAnother reports whether another candidate layout of the same version
// also decodes the whole payload.
func (d *Decoder) fitsAnother(ev *etl.Event, rest []*schema) bool {
	for _, s := range rest {
		if s.version != ev.Version {
			continue
		}
		if _, n, err := decodeFields(s.fields, ev.UserData, ev.PointerSize, nil); err == nil && n == len(ev.UserData) {
			return true
		}
	}
	return false
}

func hexPrefix(b []byte) string {
	if len(b) > 64 {
		return hex.EncodeToString(b[:64]) + "…"
	}
	return hex.EncodeToString(b)
}

func (d *Decoder) finish(out *Decoded, s *schema) {
	d.hideSecrets(out.Properties)
	out.EventName, out.TaskName, out.OpcodeName, out.believed = s.name, s.task, s.opcode, s.believed
	if out.EventName == "" {
		out.EventName = s.task
	}
	out.message, out.rendered = s.message, false
}

// render substitutes %1..%n in msg with the property values; without a
// message it lists the properties.
func render(msg string, props []Property, name string) string {
	return string(appendRendered(make([]byte, 0, 2*len(msg)+32), msg, props, name))
}

// appendRendered appends the description render returns.
func appendRendered(b []byte, msg string, props []Property, name string) []byte {
	if msg == "" {
		b = append(b, name...)
		for i, p := range props {
			if i == 0 {
				b = append(b, ": "...)
			} else {
				b = append(b, ", "...)
			}
			b = append(append(b, p.Name...), '=')
			b = p.Value.AppendText(b)
		}
		return b
	}
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		// Message-file escapes: %n newline, %t tab, %% percent; line
		// breaks become spaces so a description stays on one line.
		if c == '%' && i+1 < len(msg) {
			switch msg[i+1] {
			case 'n', 't':
				b = append(b, ' ')
				i++
				continue
			case '%':
				b = append(b, '%')
				i++
				continue
			}
		}
		if c == '\r' {
			continue
		}
		if c == '\n' {
			b = append(b, ' ')
			continue
		}
		if c == '%' && i+1 < len(msg) && msg[i+1] >= '1' && msg[i+1] <= '9' {
			j := i + 1
			for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(msg[i+1 : j])
			if n >= 1 && n <= len(props) {
				b = props[n-1].Value.AppendText(b)
			}
			i = j - 1
			continue
		}
		b = append(b, c)
	}
	return b
}

// HeaderFields are the names every decoded event answers to (Lookup), in
// the order docs/filters.md lists them.
var HeaderFields = []string{"description", "provider", "provider_guid", "guid", "id", "version", "level", "opcode", "task",
	"keywords", "pid", "tid", "cpu", "kind", "event", "name", "task_name", "opcode_name", "time"}

// KnownFields returns the names a filter or --fields can use on the events
// this decoder knows before reading a trace: the header fields and the
// properties of the built-in schemas and of loaded manifests. Properties of
// TraceLogging events and of schemas embedded in a trace are not among
// them: they are known only once the events are read.
func (d *Decoder) KnownFields() []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if k := strings.ToLower(n); n != "" && !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	for _, n := range HeaderFields {
		add(n)
	}
	var walk func(fs []field)
	walk = func(fs []field) {
		for _, f := range fs {
			add(f.name)
			walk(f.members)
		}
	}
	for _, idx := range []map[schemaKey][]*schema{d.schemas, d.manifest} {
		for _, list := range idx {
			for _, s := range list {
				walk(s.fields)
			}
		}
	}
	walk(logfileHeader.fields)
	return out
}
