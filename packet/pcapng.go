package packet

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// PcapWriter writes frames as pcapng, etl2pcapng style: one interface per
// (source, adapter, link type), nanosecond timestamps, the direction in the
// packet flags, the original length (from the IP header for frames the
// capture cut) and a comment with the process id of the capturing event.
// Every frame is written, PktMon drops and component copies included: one
// pcapng packet per packet event.
type PcapWriter struct {
	w       io.Writer
	ng      *pcapgo.NgWriter
	ifaces  map[ifaceKey]int
	app     string
	packets int
}

type ifaceKey struct {
	source Source
	index  uint32
	link   layers.LinkType
}

// NewPcapWriter returns a writer to w. app names the writing program in the
// section header. Call Flush at the end.
func NewPcapWriter(w io.Writer, app string) *PcapWriter {
	return &PcapWriter{w: w, ifaces: map[ifaceKey]int{}, app: app}
}

// Packets returns the number of packets written.
func (p *PcapWriter) Packets() int { return p.packets }

func (p *PcapWriter) iface(f *Frame) (int, error) {
	k := ifaceKey{f.Source, f.Interface, f.LinkType}
	if id, ok := p.ifaces[k]; ok {
		return id, nil
	}
	return p.addIface(k, pcapgo.NgInterface{
		Name:                fmt.Sprintf("%s:%d", f.Source, f.Interface),
		Description:         describeInterface(f),
		LinkType:            f.LinkType,
		TimestampResolution: 9,
		SnapLength:          0,
	})
}

// addIface adds interface intf as k and returns its id; the first one
// starts the section (the writer is created with it).
func (p *PcapWriter) addIface(k ifaceKey, intf pcapgo.NgInterface) (int, error) {
	var id int
	var err error
	if p.ng == nil {
		opts := pcapgo.DefaultNgWriterOptions
		opts.SectionInfo.Application = p.app
		opts.SectionInfo.OS = ""
		p.ng, err = pcapgo.NewNgWriterInterface(p.w, intf, opts)
	} else {
		id, err = p.ng.AddInterface(intf)
	}
	if err != nil {
		return 0, fmt.Errorf("pcapng: add interface %q: %w", intf.Name, err)
	}
	p.ifaces[k] = id
	return id, nil
}

func describeInterface(f *Frame) string {
	switch f.Source {
	case SourceNDIS:
		return "NDIS LowerIfIndex " + strconv.FormatUint(uint64(f.Interface), 10) + ", MiniportIfIndex " + strconv.FormatUint(uint64(f.Miniport), 10)
	case SourcePktMon:
		return "PktMon component " + strconv.FormatUint(uint64(f.Interface), 10)
	case SourceRas:
		return "VPN (Ras-NdisWan) routing domain " + f.RoutingDomain
	}
	return ""
}

// comment is the packet comment: the event's process and thread (as
// etl2pcapng writes them), PktMon's packet identity, and for a drop its
// reason and location codes. The RRAS user name of VPN packets is left
// out (personal data; `events` shows it when asked).
func comment(f *Frame) string {
	var b strings.Builder
	fmt.Fprintf(&b, "PID=%d TID=%d", f.PID, f.TID)
	switch f.Source {
	case SourcePktMon:
		fmt.Fprintf(&b, " PktGroupId=%d PktNumber=%d Appearance=%d Component=%d Edge=%d Type=%d", f.PktGroupID, f.PktNumber, f.Appearance, f.Interface, f.Edge, f.PktMonType)
		if f.Drop {
			fmt.Fprintf(&b, " Drop: DropReason=%#x DropLocation=%#x", f.DropReason, f.DropLocation)
		}
	case SourceRas:
		fmt.Fprintf(&b, " RoutingDomainId=%s", f.RoutingDomain)
	}
	return b.String()
}

// Write appends one frame.
func (p *PcapWriter) Write(f *Frame) error {
	id, err := p.iface(f)
	if err != nil {
		return err
	}
	ci := gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: len(f.Data), Length: f.OrigLen, InterfaceIndex: id}
	if ci.Length < ci.CaptureLength {
		ci.Length = ci.CaptureLength
	}
	flags := &pcapgo.NgEpbFlags{}
	switch f.Direction {
	case DirSent:
		flags.Direction = pcapgo.NgEpbFlagDirectionOutbound
	case DirReceived:
		flags.Direction = pcapgo.NgEpbFlagDirectionInbound
	}
	if f.FCS {
		flags.FCSLen = pcapgo.NewNgEpbFlagFCSLength(4)
	}
	opts := pcapgo.NgPacketOptions{
		Flags:    flags,
		Comments: []string{comment(f)},
	}
	if f.Source == SourcePktMon && f.PktGroupID != 0 {
		id := f.PktGroupID
		opts.PacketID = &id // epb_packetid, as etl2pcapng writes it
	}
	if f.Drop {
		// epb_verdict: etl2pcapng's choice, type Linux eBPF XDP with
		// value XDP_DROP (1), the closest pcapng has to "dropped".
		opts.Verdicts = []pcapgo.NgEpbVerdict{{Type: pcapgo.NgEpbVerdictTypeLinuxeBPFXDP, Data: []byte{1, 0, 0, 0, 0, 0, 0, 0}}}
	}
	if err := p.ng.WritePacketWithOptions(ci, f.Data, opts); err != nil {
		return fmt.Errorf("pcapng: write packet: %w", err)
	}
	p.packets++
	return nil
}

// Flush writes buffered data. A file without frames still gets a section
// header and one Ethernet interface, so it is a valid pcapng file.
func (p *PcapWriter) Flush() error {
	if p.ng == nil {
		if _, err := p.iface(&Frame{Source: SourceNDIS, LinkType: layers.LinkTypeEthernet}); err != nil {
			return err
		}
	}
	return p.ng.Flush()
}
