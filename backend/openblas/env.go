package openblas

// ThreadTimeout is the OPENBLAS_THREAD_TIMEOUT this engine runs OpenBLAS
// with: its idle worker threads spin for 2^20 cycles (about half a
// millisecond) after a call before they sleep, instead of OpenBLAS's 2^28.
//
// Why: the engine alternates BLAS calls with long stretches of its own Go
// code on the same cores (bulge chasing, the reflectors applied to Mᵀ, the
// secular equations of divide and conquer). Under the default an OpenBLAS
// thread was seen spinning in sched_yield through all of such a stretch,
// taking a core from the Go workers: measured at D = 12,288 (align from a
// moments file, 2 cores), band → tridiagonal took 17.2 s instead of 3.8 –
// 4.9 s and the whole eigen phase 73 s instead of 59 – 65 s. A short spin
// still bridges back-to-back calls: at D = 4,096, dsyevd with vectors
// took 5.66 s by default and 5.75 s with 20, but 7.48 s with 4 (threads
// that sleep between every call), and the projection route 2.44, 2.2 and
// 2.69 s.
const ThreadTimeout = "20"
