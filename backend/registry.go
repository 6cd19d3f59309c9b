package backend

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Options are the settings common to all implementations.
type Options struct {
	// Threads bounds the worker threads of a CPU backend; 0 means all cores.
	Threads int
}

// Factory opens an implementation. It returns an error matching
// ErrUnavailable when the implementation cannot run here.
type Factory func(Options) (Backend, error)

// Device is the kind of processor an implementation computes on. The
// engine routes by it: large problems go to a GPU when one opens, whatever
// the implementation is called.
type Device string

const (
	CPU Device = "cpu"
	GPU Device = "gpu"
)

type entry struct {
	name     string
	priority int
	device   Device
	open     Factory
}

var (
	mu       sync.Mutex
	registry = map[string]entry{}
)

// Register makes a CPU implementation available under name. A higher
// priority is preferred by OpenBest and Names. Registering a name twice panics.
func Register(name string, priority int, f Factory) { RegisterOn(CPU, name, priority, f) }

// RegisterOn is Register for an implementation that computes on device.
func RegisterOn(device Device, name string, priority int, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("backend: Register called twice for " + name)
	}
	if device != CPU && device != GPU {
		panic(fmt.Sprintf("backend: Register %s on unknown device %q", name, device))
	}
	registry[name] = entry{name, priority, device, f}
}

// Names lists the registered implementations, preferred first.
func Names() []string { return names(func(entry) bool { return true }) }

// NamesOn lists the registered implementations that compute on device,
// preferred first: how a caller asks for a capability ("a GPU") without
// naming an implementation.
func NamesOn(device Device) []string {
	return names(func(e entry) bool { return e.device == device })
}

// DeviceOf says where the implementation registered under name computes
// (false when no such name is registered).
func DeviceOf(name string) (Device, bool) {
	mu.Lock()
	defer mu.Unlock()
	e, ok := registry[name]
	return e.device, ok
}

func names(keep func(entry) bool) []string {
	mu.Lock()
	defer mu.Unlock()
	es := make([]entry, 0, len(registry))
	for _, e := range registry {
		if keep(e) {
			es = append(es, e)
		}
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].priority != es[j].priority {
			return es[i].priority > es[j].priority
		}
		return es[i].name < es[j].name
	})
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.name
	}
	return out
}

// Open opens the implementation registered under name.
func Open(name string, opts Options) (Backend, error) {
	mu.Lock()
	e, ok := registry[name]
	mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("unknown backend %q (known: %v; forgotten import?)", name, Names())
	}
	return e.open(opts)
}

// Status is one line of Available: whether an implementation can run here.
type Status struct {
	Name      string `json:"name"`
	Kind      Device `json:"kind,omitempty"` // cpu or gpu (absent in reports older than it)
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"` // why not, when unavailable
	Info      *Info  `json:"info,omitempty"`
}

// Available opens every registered implementation once and reports which can
// run here, preferred first. Opened backends are closed again.
func Available(opts Options) []Status {
	var out []Status
	for _, name := range Names() {
		kind, _ := DeviceOf(name)
		b, err := Open(name, opts)
		if err != nil {
			out = append(out, Status{Name: name, Kind: kind, Reason: err.Error()})
			continue
		}
		info := b.Info()
		if c, ok := b.(Closer); ok {
			c.Close()
		}
		out = append(out, Status{Name: name, Kind: kind, Available: true, Info: &info})
	}
	return out
}

// OpenBest opens the preferred implementation that is available among names
// (all registered ones when names is empty). It returns the last error when
// none opens.
func OpenBest(opts Options, names ...string) (Backend, error) {
	if len(names) == 0 {
		names = Names()
	}
	var errs []error
	for _, n := range names {
		b, err := Open(n, opts)
		if err == nil {
			return b, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}
