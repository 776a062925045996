package lab

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/vpcflow/vpcflow/topology"
)

// Dependencies are what a lab is built from.
type Dependencies struct {
	// Topology is the network to build (required).
	Topology *topology.Topology
	// Log receives a line per step while the lab is built and removed;
	// nil discards them.
	Log io.Writer
}

// Lab is one lab: New plans it, Start builds it, Stop removes what Start
// built.
type Lab struct {
	cfg  Configuration
	deps Dependencies
	plan *Plan

	mu      sync.Mutex
	created []string // namespaces this lab made, in order
	started bool
}

// New checks the configuration and plans the lab; nothing is built yet.
func New(cfg Configuration, deps Dependencies) (*Lab, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Topology == nil {
		return nil, fmt.Errorf("lab: Dependencies.Topology: required")
	}
	if deps.Log == nil {
		deps.Log = io.Discard
	}
	p, err := plan(cfg, deps.Topology)
	if err != nil {
		return nil, err
	}
	return &Lab{cfg: cfg, deps: deps, plan: p}, nil
}

// Plan returns what the lab builds. It must not be modified.
func (l *Lab) Plan() *Plan { return l.plan }

// Start builds the lab. It refuses when namespaces of the lab's id exist
// already (another lab, or one left by a crash: `vpcflow lab down`). When
// a step fails, what was built is removed and the error names the step.
func (l *Lab) Start(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return fmt.Errorf("lab %s: already started", l.cfg.ID)
	}
	l.started = true
	if err := l.build(ctx); err != nil {
		l.removeLocked()
		return err
	}
	return nil
}

// Stop removes the namespaces Start made (and with them every interface,
// route and rule of the lab). It is safe to call more than once, and
// after a failed Start.
func (l *Lab) Stop() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.removeLocked()
}

// Apply compiles the security groups and network ACLs of t, a new version
// of the lab's topology (after an EC2 API change), and replaces the lab's
// rules with them: one nft transaction per namespace, so a packet meets
// either the old rules or the new, and connections already tracked go on,
// as on AWS. Only rules change: t must have the same interfaces,
// addresses, public addresses and routes as the topology the lab was built
// from (adding or removing an interface, or a route, needs the lab built
// again); the error says what differs, and the lab keeps its rules.
func (l *Lab) Apply(ctx context.Context, t *topology.Topology) error {
	p, err := plan(l.cfg, t)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.created) == 0 {
		return fmt.Errorf("lab %s: not built: nothing to apply the rules to", l.cfg.ID)
	}
	if err := sameShape(l.plan, p); err != nil {
		return fmt.Errorf("lab %s: rules not applied: %v", l.cfg.ID, err)
	}
	if err := l.apply(ctx, p); err != nil {
		return err
	}
	l.plan = p
	return nil
}

// sameShape says how b differs from a in what the lab built (namespaces,
// ports, addresses, address translations, routes), which Apply cannot
// change.
func sameShape(a, b *Plan) error {
	names := func(p *Plan) []string {
		var s []string
		for _, e := range p.ENIs {
			s = append(s, fmt.Sprintf("%s port %s %s %v", e.ENI.ID, e.Port, e.MAC, e.Addrs))
		}
		return s
	}
	na, nb := names(a), names(b)
	if len(na) != len(nb) {
		return fmt.Errorf("the network has %d interfaces, the lab was built with %d: build the lab again to add or remove one", len(nb), len(na))
	}
	for i := range na {
		if na[i] != nb[i] {
			return fmt.Errorf("interface %q is now %q: build the lab again to change interfaces", na[i], nb[i])
		}
	}
	if fmt.Sprint(a.NAT) != fmt.Sprint(b.NAT) || fmt.Sprint(a.Inbound) != fmt.Sprint(b.Inbound) {
		return fmt.Errorf("the public addresses or internet gateways changed: build the lab again")
	}
	// Subnets and their routes (a new subnet is built with its first
	// interface, which needs the lab built again anyway).
	for _, sa := range a.Subnets {
		for _, sb := range b.Subnets {
			if sb.Subnet.ID != sa.Subnet.ID {
				continue
			}
			if sa.Bridge != sb.Bridge || sa.Table != sb.Table || sa.Gateway4 != sb.Gateway4 || fmt.Sprint(sa.Routes) != fmt.Sprint(sb.Routes) {
				return fmt.Errorf("the routes of subnet %s changed (%v, was %v): the lab applies rules only, build it again", sa.Subnet.ID, sb.Routes, sa.Routes)
			}
		}
	}
	return nil
}
