package decode

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/etlscope/etlscope/etl"
)

// XML shape of an instrumentation manifest (the parts decoding needs).
type xmlManifest struct {
	Providers []xmlProvider `xml:"instrumentation>events>provider"`
	Strings   []xmlString   `xml:"localization>resources>stringTable>string"`
}

type xmlProvider struct {
	Name      string        `xml:"name,attr"`
	GUID      string        `xml:"guid,attr"`
	Events    []xmlEvent    `xml:"events>event"`
	Templates []xmlTemplate `xml:"templates>template"`
	Tasks     []xmlNamed    `xml:"tasks>task"`
	Opcodes   []xmlNamed    `xml:"opcodes>opcode"`
	ValueMaps []xmlMap      `xml:"maps>valueMap"`
	BitMaps   []xmlMap      `xml:"maps>bitMap"`
}

type xmlEvent struct {
	Value    string `xml:"value,attr"`
	Version  string `xml:"version,attr"`
	Symbol   string `xml:"symbol,attr"`
	Task     string `xml:"task,attr"`
	Opcode   string `xml:"opcode,attr"`
	Template string `xml:"template,attr"`
	Message  string `xml:"message,attr"`
}

type xmlTemplate struct {
	TID  string    `xml:"tid,attr"`
	Data []xmlData `xml:"data"`
}

type xmlData struct {
	Name   string `xml:"name,attr"`
	InType string `xml:"inType,attr"`
	Length string `xml:"length,attr"`
	Count  string `xml:"count,attr"`
	Map    string `xml:"map,attr"`
}

type xmlNamed struct {
	Name    string `xml:"name,attr"`
	Message string `xml:"message,attr"`
}

type xmlMap struct {
	Name string `xml:"name,attr"`
	Maps []struct {
		Value   string `xml:"value,attr"`
		Message string `xml:"message,attr"`
	} `xml:"map"`
}

var manifestTypes = map[string]inType{
	"win:UnicodeString": tWStr, "win:AnsiString": tAStr, "win:Int8": tI8, "win:UInt8": tU8,
	"win:Int16": tI16, "win:UInt16": tU16, "win:Int32": tI32, "win:UInt32": tU32, "win:Int64": tI64,
	"win:UInt64": tU64, "win:Float": tF32, "win:Double": tF64, "win:Boolean": tBool, "win:GUID": tGUID,
	"win:Pointer": tPtr, "win:FILETIME": tFileTime, "win:SYSTEMTIME": tSysTime, "win:SID": tSID,
	"win:HexInt32": tX32, "win:HexInt64": tX64, "win:Binary": tBin,
}

// LoadManifest adds the providers of an instrumentation manifest. Its
// schemas take precedence over the built-in ones for the same event.
func (d *Decoder) LoadManifest(r io.Reader) error {
	var m xmlManifest
	dec := xml.NewDecoder(io.LimitReader(r, 64<<20))
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("parse manifest: %w", err)
	}
	if len(m.Providers) == 0 {
		return fmt.Errorf("no <provider> in the manifest")
	}
	strs := map[string]string{}
	for _, s := range m.Strings {
		strs[s.ID] = s.Value
	}
	resolve := func(s string) string {
		if strings.HasPrefix(s, "$(string.") && strings.HasSuffix(s, ")") {
			return strs[s[len("$(string."):len(s)-1]]
		}
		return s
	}
	for _, p := range m.Providers {
		g, err := etl.ParseGUID(p.GUID)
		if err != nil {
			return fmt.Errorf("provider %q: %w", p.Name, err)
		}
		d.names[g] = p.Name
		tmpl := map[string][]field{}
		maps := map[string]valueMap{}
		for _, vm := range append(append([]xmlMap(nil), p.ValueMaps...), p.BitMaps...) {
			vals := map[uint64]string{}
			for _, e := range vm.Maps {
				if u, err := strconv.ParseUint(e.Value, 0, 64); err == nil {
					vals[u] = strings.TrimSpace(resolve(e.Message))
				}
			}
			maps[vm.Name] = func(u uint64) string { return vals[u] }
		}
		for _, t := range p.Templates {
			var fs []field
			idx := map[string]int{}
			for _, dt := range t.Data {
				typ, ok := manifestTypes[dt.InType]
				if !ok {
					typ = tBin
				}
				f := field{name: dt.Name, typ: typ, lenRef: -1, mapper: maps[dt.Map]}
				if dt.Length != "" {
					if i, ok := idx[dt.Length]; ok {
						f.lenRef = i
						f.typ = counted(typ)
					} else if n, err := strconv.Atoi(dt.Length); err == nil && typ == tBin {
						f.count = n
						f.typ = tU8
					}
				} else if typ == tBin {
					return fmt.Errorf("provider %q template %q: binary field %q without length", p.Name, t.TID, dt.Name)
				}
				if dt.Count != "" {
					if n, err := strconv.Atoi(dt.Count); err == nil {
						f.count = n
					} else {
						return fmt.Errorf("provider %q template %q: variable-count field %q not supported", p.Name, t.TID, dt.Name)
					}
				}
				f.kind = kindOf(f.name, f.typ, 0)
				idx[dt.Name] = len(fs)
				fs = append(fs, f)
			}
			tmpl[t.TID] = fs
		}
		for _, e := range p.Events {
			id, err := strconv.ParseUint(e.Value, 0, 16)
			if err != nil {
				return fmt.Errorf("provider %q: event value %q: %w", p.Name, e.Value, err)
			}
			v, _ := strconv.ParseUint(e.Version, 0, 8)
			s := &schema{provider: g, id: uint16(id), version: uint8(v), name: e.Symbol, task: e.Task, opcode: strings.TrimPrefix(e.Opcode, "win:"),
				message: resolve(e.Message), fields: tmpl[e.Template]}
			k := schemaKey{g, uint16(id)}
			d.manifest[k] = append(d.manifest[k], s)
		}
	}
	return nil
}

type xmlString struct {
	ID    string `xml:"id,attr"`
	Value string `xml:"value,attr"`
}
