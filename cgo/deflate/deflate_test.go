package deflate

import (
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"strings"
	"testing"
)

func gz(t *testing.T, members ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, m := range members {
		w := gzip.NewWriter(&buf)
		w.Write(m)
		w.Close()
	}
	return buf.Bytes()
}

func TestGunzip(t *testing.T) {
	if !Available() {
		if err := Gunzip([]byte{1}, []byte{1}); err == nil || !strings.Contains(err.Error(), "without libdeflate") {
			t.Fatalf("no libdeflate: %v", err)
		}
		t.Skip("built without libdeflate")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.IntN(16)) // compressible, like pixels
	}
	in := gz(t, data)
	out := make([]byte, len(data))
	if err := Gunzip(in, out); err != nil || !bytes.Equal(out, data) {
		t.Fatalf("round trip: %v", err)
	}
	for _, tc := range []struct {
		name   string
		in     []byte
		outLen int
		want   string
	}{
		{"short output", in, len(data) - 1, "more than"},
		{"long output", in, len(data) + 1, "not"},
		{"two members", gz(t, data, data[:10]), len(data), "follow the first gzip member"},
		// A flipped byte may decode to garbage of another length: any error.
		{"flipped byte", append(append([]byte{}, in[:len(in)/2]...), append([]byte{in[len(in)/2] ^ 0xff}, in[len(in)/2+1:]...)...), len(data), "deflate: "},
		{"truncated", in[:len(in)-5], len(data), "corrupt"},
	} {
		err := Gunzip(tc.in, make([]byte, tc.outLen))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}
