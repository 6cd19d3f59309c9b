package gonum_test

import (
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/backendtest"
	"github.com/reconalign/reconalign/backend/gonum"
)

func open() (backend.Backend, error) { return backend.Open(gonum.Name, backend.Options{}) }

func TestConformance(t *testing.T) { backendtest.Run(t, open) }

func BenchmarkBackend(b *testing.B) { backendtest.Bench(b, open) }
