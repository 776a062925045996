package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
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
	// PortAdded, when set, is called by Apply for each interface it adds,
	// once its port in the router namespace is up and before anything is
	// sent to it (vpcflow serve --lab starts capturing the port there).
	PortAdded func(*ENIPlan) error
	// PortRemoving, when set, is called by Apply before it deletes the
	// namespace of an interface gone from the network.
	PortRemoving func(*ENIPlan) error
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

// Apply makes the lab what t, a new version of its topology (after an
// EC2 API change), describes, and says what changed:
//
//   - the security groups and network ACLs of every namespace are replaced,
//     one nft transaction per namespace, so a packet meets either the old
//     rules or the new, and connections already tracked go on, as on AWS;
//   - an interface that is gone (or whose port, MAC or addresses changed)
//     loses its namespace (Dependencies.PortRemoving first); a new one gets
//     its namespace, veth, addresses and rules (Dependencies.PortAdded once
//     its port is up, before anything reaches it);
//   - the subnets' routes, the internet gateway's translations and the
//     public peers follow the new plan.
//
// Subnets and whether the lab has IPv6 are fixed: a version that changes
// them is refused (build the lab again), and the lab stays as it was.
// When a step fails, the error names it; the lab keeps what was done, and
// the next Apply starts from the version applied last in full. Errors of
// the hooks (and of namespaces that processes still hold) are returned
// after every step was done.
func (l *Lab) Apply(ctx context.Context, t *topology.Topology) (Change, error) {
	p, err := plan(l.cfg, t)
	if err != nil {
		return Change{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.created) == 0 {
		return Change{}, fmt.Errorf("lab %s: not built: nothing to apply the network to", l.cfg.ID)
	}
	if err := fixedShape(l.plan, p); err != nil {
		return Change{}, fmt.Errorf("lab %s: network not applied: %v", l.cfg.ID, err)
	}
	c, err := l.reconcile(ctx, l.plan, p)
	if err != nil {
		return c, err
	}
	l.plan = p
	return c, errors.Join(c.Errors...)
}

// Change is what an Apply did besides replacing the rules.
type Change struct {
	Added, Removed []*ENIPlan // interfaces (a changed one is in both)
	Routes         []string   // subnets whose routes changed
	Errors         []error    // of the hooks, and namespaces deleted that processes still hold
}

// Empty reports whether only rules changed.
func (c Change) Empty() bool { return len(c.Added)+len(c.Removed)+len(c.Routes) == 0 }

// eniKey is what a namespace is built from: a change of it rebuilds it.
func eniKey(e *ENIPlan) string {
	return fmt.Sprintf("%s port %s %s %v", e.ENI.ID, e.Port, e.MAC, e.Addrs)
}

// fixedShape says how b differs from a in what Apply does not change: the
// subnets (bridges, routing tables, router addresses), IPv6 in the router,
// the internet link and the peers' default source.
func fixedShape(a, b *Plan) error {
	sub := func(p *Plan) []string {
		var s []string
		for _, x := range p.Subnets {
			s = append(s, fmt.Sprintf("%s %s %s %d %v %v", x.Subnet.ID, x.Bridge, x.MAC, x.Table, x.Gateway4, x.Gateway6))
		}
		return s
	}
	if !slices.Equal(sub(a), sub(b)) {
		return fmt.Errorf("the subnets changed (%v, was %v): the lab adds and removes interfaces, rules and routes, not subnets; build it again", sub(b), sub(a))
	}
	if a.IPv6 != b.IPv6 {
		return fmt.Errorf("the lab was built with IPv6 %v, the network now has IPv6 %v: build it again", a.IPv6, b.IPv6)
	}
	if a.PeerSource != b.PeerSource {
		return fmt.Errorf("the public peers' default source %s is now an interface's public address: build the lab again", a.PeerSource)
	}
	return nil
}
