package synth

import (
	"io"
	"testing"

	"github.com/reconalign/reconalign/data"
)

// The stream's rows do not depend on the chunking and agree with its closed
// form, so a streamed Gram can be checked entry by entry.
func TestTemplateStreamClosedForm(t *testing.T) {
	st := TemplateStream{Spec: TemplateSpec{N: 301, H: 3, W: 5, C: 3, Classes: 7, Seed: 9}}
	d := st.Spec.D()
	read := func(rows int) ([]uint8, []int) {
		r, err := st.Open(rows)
		if err != nil {
			t.Fatal(err)
		}
		var x []uint8
		var l []int
		for {
			b, err := r.Next()
			if err == io.EOF {
				return x, l
			}
			if err != nil {
				t.Fatal(err)
			}
			x = append(x, b.X.U8...)
			l = append(l, b.Labels...)
		}
	}
	x1, l1 := read(1000)
	x2, l2 := read(7)
	if string(x1) != string(x2) || len(l1) != 301 {
		t.Fatal("rows depend on the chunk size")
	}
	counts := make([]int, 7)
	for i := 0; i < 301; i++ {
		if l1[i] != l2[i] || l1[i] != st.Label(i) {
			t.Fatalf("label %d", i)
		}
		counts[l1[i]]++
		for j := 0; j < d; j++ {
			if x1[i*d+j] != st.Pixel(i, j) {
				t.Fatalf("pixel (%d,%d): %d vs closed form %d", i, j, x1[i*d+j], st.Pixel(i, j))
			}
		}
	}
	for c, n := range counts {
		if n < 20 {
			t.Errorf("class %d has %d of 301 samples: labels are not spread", c, n)
		}
	}
	// The noise is uniform on 0..127: its mean over the stream is near 63.5.
	sum := 0.0
	for i := 0; i < 301; i++ {
		for j := 0; j < d; j++ {
			sum += float64(x1[i*d+j]) - float64(st.template(st.keys(), l1[i], j))
		}
	}
	if m := sum / float64(301*d); m < 60 || m > 67 {
		t.Errorf("mean noise %.2f, want about 63.5", m)
	}
	for _, p := range [][2]int{{0, 0}, {3, 40}, {44, 44}} {
		want := 0.0
		for i := 0; i < 301; i++ {
			want += float64(x1[i*d+p[0]]) * float64(x1[i*d+p[1]])
		}
		if got := st.GramEntry(p[0], p[1]); got != want {
			t.Fatalf("GramEntry%v = %g, want %g", p, got, want)
		}
	}
	var _ data.Source = st
	if _, err := (TemplateStream{Spec: TemplateSpec{N: 1, H: 1, W: 1, C: 1}}).Open(8); err == nil {
		t.Error("a stream with no classes opened")
	}
	if _, err := st.Open(0); err == nil {
		t.Error("a chunk of 0 rows accepted")
	}
}
