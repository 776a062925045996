package pipeline

import (
	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/packet"
)

// What a command needs of the aggregator and the decoder to set a
// pipeline's bounds and tunnels from its flags and to word its summary:
// named here, the command configures the pipeline without reaching into
// the packages below it.

// FlowConfiguration is the type of Config.Flow: the flow tables' bounds.
type FlowConfiguration = flow.Configuration

// Encap is one kind of encapsulation the decoder opens; bit i of it names
// Stats.Encap.ByKind[i].
type Encap = packet.Encap

// DefaultMemoryFraction is the share of the machine's (or cgroup's)
// memory the flow tables may hold by default.
const DefaultMemoryFraction = flow.DefaultMemoryFraction

// DefaultMemoryBudget is the flow tables' default memory bound here.
func DefaultMemoryBudget() int64 { return flow.DefaultMemoryBudget() }

// ParseSize reads a memory size such as 512MiB or 2GiB.
func ParseSize(s string) (int64, error) { return flow.ParseSize(s) }

// FormatSize writes a memory size as ParseSize reads it.
func FormatSize(n int64) string { return flow.FormatSize(n) }

// ParseDecap reads the tunnels whose inner packets are logged (--decap).
func ParseDecap(s string) (packet.Decap, error) { return packet.ParseDecap(s) }
