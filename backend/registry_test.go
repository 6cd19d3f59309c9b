package backend

import (
	"errors"
	"slices"
	"testing"
)

func TestRegistryAnswersByDevice(t *testing.T) {
	unavailable := func(Options) (Backend, error) { return nil, Unavailable("test", "never here") }
	Register("test-cpu-a", -1000, unavailable)
	RegisterOn(GPU, "test-gpu", -1000, unavailable)
	if !slices.Contains(NamesOn(CPU), "test-cpu-a") || slices.Contains(NamesOn(CPU), "test-gpu") {
		t.Errorf("NamesOn(CPU) = %v", NamesOn(CPU))
	}
	if !slices.Contains(NamesOn(GPU), "test-gpu") || slices.Contains(NamesOn(GPU), "test-cpu-a") {
		t.Errorf("NamesOn(GPU) = %v", NamesOn(GPU))
	}
	if d, ok := DeviceOf("test-gpu"); !ok || d != GPU {
		t.Errorf("DeviceOf(test-gpu) = %q, %v", d, ok)
	}
	if _, ok := DeviceOf("no-such-backend"); ok {
		t.Error("DeviceOf knows an unregistered name")
	}
	if _, err := OpenBest(Options{}, NamesOn(GPU)...); !errors.Is(err, ErrUnavailable) {
		t.Errorf("OpenBest over unavailable GPUs: %v", err)
	}
	for _, s := range Available(Options{}) {
		if s.Name == "test-gpu" && (s.Kind != GPU || s.Available || s.Reason == "") {
			t.Errorf("Available: %+v", s)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	Register("test-cpu-a", 0, unavailable)
}
