//go:build !openblas || !cgo

package openblas

import (
	"errors"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/backend"
)

func TestReportsWhyUnavailable(t *testing.T) {
	b, err := backend.Open(Name, backend.Options{})
	if b != nil || !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("Open(%q) = %v, %v; want an error matching backend.ErrUnavailable", Name, b, err)
	}
	if !strings.Contains(err.Error(), Name) || !strings.Contains(err.Error(), unavailableReason) {
		t.Errorf("error %q does not name the backend and say why", err)
	}
}
