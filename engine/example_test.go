package engine_test

import (
	"fmt"
	"log"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// The alignment curve of a small in-memory dataset whose labels live in its
// lowest-variance feature: the top direction carries none of them.
func Example() {
	x := make([]float64, 0, 8*3)
	labels := []int{0, 1, 0, 1, 0, 1, 0, 1}
	for i, l := range labels {
		big := float64(10 * ((i/2)%2*2 - 1)) // large variance, label-free
		mid := float64(3 * (i%4/2*2 - 1) * (i%2*2 - 1))
		x = append(x, big, mid, 0.1*float64(2*l-1))
	}
	src, err := data.FromMatrix(backend.Chunk{N: 8, D: 3, F64: x}, labels, data.Shape{})
	if err != nil {
		log.Fatal(err)
	}
	eng, err := engine.New(engine.Options{Backend: "gonum"})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	curve, err := eng.Align(src, engine.AlignOptions{Center: true, Form: engine.FormRegression})
	if err != nil {
		log.Fatal(err)
	}
	for i, k := range curve.K {
		fmt.Printf("alignment(%d) = %.3f\n", k, curve.Alignment[i])
	}
	// Output:
	// alignment(1) = 0.000
	// alignment(2) = 0.000
	// alignment(3) = 1.000
}
