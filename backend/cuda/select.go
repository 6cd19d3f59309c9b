package cuda

import "github.com/reconalign/reconalign/backend"

var (
	_ backend.GramStreamer      = (*Backend)(nil)
	_ backend.PrecisionSelector = (*Backend)(nil)
)

// UsePrecision is SetPrecision by name, for the engine's --precision flag.
func (b *Backend) UsePrecision(name string) error {
	p, err := ParsePrecision(name)
	if err != nil {
		return err
	}
	return b.SetPrecision(p)
}
