//go:build !linux

package live

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/packet"
)

// Dependencies are what a Source uses but does not own.
type Dependencies struct{}

// Stats are a source's counters (see the Linux build).
type Stats struct {
	Interface                                string
	Frames, Bytes                            uint64
	KernelPackets, KernelDrops, QueueFreezes uint64
}

// Source is the capture of one interface; AF_PACKET exists only on Linux.
type Source struct{}

// New fails: live capture uses AF_PACKET sockets, which only Linux has.
func New(cfg Configuration, _ Dependencies) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, errors.New("live capture on " + cfg.Interface + " needs Linux (AF_PACKET sockets)")
}

func (s *Source) Name() string                   { return "" }
func (s *Source) HardwareAddr() net.HardwareAddr { return nil }
func (s *Source) LinkType() packet.LinkType      { return packet.LinkEthernet }
func (s *Source) Grace() time.Duration           { return 0 }
func (s *Source) Notify(func())                  {}
func (s *Source) Start(context.Context) error    { return errors.New("live capture needs Linux") }
func (s *Source) Next() (capture.Frame, error) {
	return capture.Frame{}, errors.New("live capture needs Linux")
}
func (s *Source) Stats() Stats { return Stats{} }
func (s *Source) StopReading() {}
func (s *Source) Stop() error  { return nil }
func (s *Source) Close() error { return nil }
