//go:build cgo && linux

package cuda

// #include <stdlib.h>
// #include "shim.h"
import "C"

import "unsafe"

// cuSOLVER's dense routines use the same column-major convention as cuBLAS.
// Each computing routine writes its LAPACK-style info (0: success, < 0: bad
// argument −info, > 0: numerical failure) to a device int the caller
// downloads after synchronizing.

// Solver is a cusolverDnHandle_t with the cusolverDnParams_t of the 64-bit
// API, and page-locked room for Xsyevdx's scalar arguments vl, vu and meig.
// The documentation calls meig a host output; page-locked memory is also
// addressable from the device, so the call works whichever side writes it.
type Solver struct{ h, params, scalars unsafe.Pointer }

func solverErr(call string, st C.rc_status) error {
	if st == 0 {
		return nil
	}
	code := int(st)
	return &Error{Call: call, Lib: LibSolver, Code: code, Name: statusName(cusolverStatusNames, "CUSOLVER_STATUS", code)}
}

// NewSolver is cusolverDnCreate and cusolverDnCreateParams (default algorithms).
func NewSolver() (Solver, error) {
	var s Solver
	if err := solverErr("cusolverDnCreate", C.rc_cusolverDnCreate(&s.h)); err != nil {
		return Solver{}, err
	}
	if err := solverErr("cusolverDnCreateParams", C.rc_cusolverDnCreateParams(&s.params)); err != nil {
		C.rc_cusolverDnDestroy(s.h)
		return Solver{}, err
	}
	var err error
	if s.scalars, err = MallocHost(32); err != nil {
		s.Destroy()
		return Solver{}, err
	}
	*(*[4]int64)(s.scalars) = [4]int64{}
	return s, nil
}

// Destroy releases the handle; the zero Solver is left alone.
func (s Solver) Destroy() error {
	if s.h == nil {
		return nil
	}
	var errs [3]error
	if s.params != nil {
		errs[0] = solverErr("cusolverDnDestroyParams", C.rc_cusolverDnDestroyParams(s.params))
	}
	errs[1] = solverErr("cusolverDnDestroy", C.rc_cusolverDnDestroy(s.h))
	errs[2] = FreeHost(s.scalars)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// SolverVersion is cusolverGetVersion (e.g. 12000 + 100·minor + patch).
func SolverVersion() (int, error) {
	var v C.int
	err := solverErr("cusolverGetVersion", C.rc_cusolverGetVersion(&v))
	return int(v), err
}

// SetStream is cusolverDnSetStream.
func (s Solver) SetStream(st Stream) error {
	return solverErr("cusolverDnSetStream", C.rc_cusolverDnSetStream(s.h, st.p))
}

// XsyevdBufferSize is cusolverDnXsyevd_bufferSize for float64 data: the
// device and host workspace bytes of Xsyevd.
func (s Solver) XsyevdBufferSize(jobz EigMode, uplo FillMode, n int64, a DevicePtr, lda int64, w DevicePtr) (dev, host int64, err error) {
	var d, h C.size_t
	err = solverErr("cusolverDnXsyevd_bufferSize", C.rc_cusolverDnXsyevd_bufferSize(s.h, s.params, C.int(jobz), C.int(uplo),
		C.int64_t(n), C.int(R64F), a.p, C.int64_t(lda), C.int(R64F), w.p, C.int(R64F), &d, &h))
	return int64(d), int64(h), err
}

// Xsyevd is cusolverDnXsyevd (64-bit API, float64): all eigenvalues of the
// symmetric n × n matrix a (the uplo triangle is read) in ascending order into
// w, and with jobz Vectors the orthonormal eigenvectors into the columns of a.
// hwork must be host memory that stays valid until the stream is synchronized
// (it may be nil when the host workspace size is 0).
func (s Solver) Xsyevd(jobz EigMode, uplo FillMode, n int64, a DevicePtr, lda int64, w DevicePtr,
	dwork DevicePtr, dbytes int64, hwork unsafe.Pointer, hbytes int64, info DevicePtr) error {
	return solverErr("cusolverDnXsyevd", C.rc_cusolverDnXsyevd(s.h, s.params, C.int(jobz), C.int(uplo), C.int64_t(n),
		C.int(R64F), a.p, C.int64_t(lda), C.int(R64F), w.p, C.int(R64F), dwork.p, C.size_t(dbytes), hwork, C.size_t(hbytes),
		(*C.int)(info.p)))
}

// vl, vu and meig: range-by-index ignores vl and vu (left at zero).
func (s Solver) vl() unsafe.Pointer { return s.scalars }
func (s Solver) vu() unsafe.Pointer { return unsafe.Add(s.scalars, 8) }
func (s Solver) meig() *C.int64_t   { return (*C.int64_t)(unsafe.Add(s.scalars, 16)) }

// XsyevdxBufferSize is cusolverDnXsyevdx_bufferSize for float64 data with
// range CUSOLVER_EIG_RANGE_I: eigenvalues il..iu (1-based, ascending order).
func (s Solver) XsyevdxBufferSize(jobz EigMode, uplo FillMode, n int64, a DevicePtr, lda int64, il, iu int64, w DevicePtr) (dev, host int64, err error) {
	var d, h C.size_t
	err = solverErr("cusolverDnXsyevdx_bufferSize", C.rc_cusolverDnXsyevdx_bufferSize(s.h, s.params, C.int(jobz),
		C.int(RangeIndex), C.int(uplo), C.int64_t(n), C.int(R64F), a.p, C.int64_t(lda), s.vl(), s.vu(),
		C.int64_t(il), C.int64_t(iu), s.meig(), C.int(R64F), w.p, C.int(R64F), &d, &h))
	return int64(d), int64(h), err
}

// Xsyevdx is cusolverDnXsyevdx (64-bit API, float64, range by index): the
// eigenvalues il..iu (1-based, ascending) into w and, with jobz Vectors, their
// eigenvectors into the first iu − il + 1 columns of a. How many it computed
// is EigenpairsFound, once the stream is synchronized.
func (s Solver) Xsyevdx(jobz EigMode, uplo FillMode, n int64, a DevicePtr, lda int64, il, iu int64, w DevicePtr,
	dwork DevicePtr, dbytes int64, hwork unsafe.Pointer, hbytes int64, info DevicePtr) error {
	*s.meig() = -1 // a count the call never wrote stays distinguishable from a real one
	return solverErr("cusolverDnXsyevdx", C.rc_cusolverDnXsyevdx(s.h, s.params, C.int(jobz), C.int(RangeIndex),
		C.int(uplo), C.int64_t(n), C.int(R64F), a.p, C.int64_t(lda), s.vl(), s.vu(), C.int64_t(il), C.int64_t(iu),
		s.meig(), C.int(R64F), w.p, C.int(R64F), dwork.p, C.size_t(dbytes), hwork, C.size_t(hbytes),
		(*C.int)(info.p)))
}

// DsygvdBufferSize is cusolverDnDsygvd_bufferSize (lwork in doubles).
func (s Solver) DsygvdBufferSize(itype EigType, jobz EigMode, uplo FillMode, n int, a DevicePtr, lda int,
	b DevicePtr, ldb int, w DevicePtr) (int, error) {
	var lw C.int
	err := solverErr("cusolverDnDsygvd_bufferSize", C.rc_cusolverDnDsygvd_bufferSize(s.h, C.int(itype), C.int(jobz),
		C.int(uplo), C.int(n), (*C.double)(a.p), C.int(lda), (*C.double)(b.p), C.int(ldb), (*C.double)(w.p), &lw))
	return int(lw), err
}

// Dsygvd is cusolverDnDsygvd: the symmetric-definite pencil a·x = λ·b·x
// (itype 1); eigenvalues ascending into w, b-orthonormal eigenvectors into a,
// the Cholesky factor of b into b. info > n: b is not positive definite.
func (s Solver) Dsygvd(itype EigType, jobz EigMode, uplo FillMode, n int, a DevicePtr, lda int, b DevicePtr, ldb int,
	w DevicePtr, work DevicePtr, lwork int, info DevicePtr) error {
	return solverErr("cusolverDnDsygvd", C.rc_cusolverDnDsygvd(s.h, C.int(itype), C.int(jobz), C.int(uplo), C.int(n),
		(*C.double)(a.p), C.int(lda), (*C.double)(b.p), C.int(ldb), (*C.double)(w.p), (*C.double)(work.p), C.int(lwork),
		(*C.int)(info.p)))
}

// DpotrfBufferSize is cusolverDnDpotrf_bufferSize (lwork in doubles).
func (s Solver) DpotrfBufferSize(uplo FillMode, n int, a DevicePtr, lda int) (int, error) {
	var lw C.int
	err := solverErr("cusolverDnDpotrf_bufferSize", C.rc_cusolverDnDpotrf_bufferSize(s.h, C.int(uplo), C.int(n),
		(*C.double)(a.p), C.int(lda), &lw))
	return int(lw), err
}

// Dpotrf is cusolverDnDpotrf: the Cholesky factor in the uplo triangle of a.
// info > 0: the leading minor of that order is not positive definite.
func (s Solver) Dpotrf(uplo FillMode, n int, a DevicePtr, lda int, work DevicePtr, lwork int, info DevicePtr) error {
	return solverErr("cusolverDnDpotrf", C.rc_cusolverDnDpotrf(s.h, C.int(uplo), C.int(n), (*C.double)(a.p), C.int(lda),
		(*C.double)(work.p), C.int(lwork), (*C.int)(info.p)))
}

// DgeqrfBufferSize is cusolverDnDgeqrf_bufferSize (lwork in doubles).
func (s Solver) DgeqrfBufferSize(m, n int, a DevicePtr, lda int) (int, error) {
	var lw C.int
	err := solverErr("cusolverDnDgeqrf_bufferSize", C.rc_cusolverDnDgeqrf_bufferSize(s.h, C.int(m), C.int(n),
		(*C.double)(a.p), C.int(lda), &lw))
	return int(lw), err
}

// Dgeqrf is cusolverDnDgeqrf: a = Q·R with R in the upper triangle of a and
// the Householder reflectors below it and in tau (LAPACK's representation).
func (s Solver) Dgeqrf(m, n int, a DevicePtr, lda int, tau, work DevicePtr, lwork int, info DevicePtr) error {
	return solverErr("cusolverDnDgeqrf", C.rc_cusolverDnDgeqrf(s.h, C.int(m), C.int(n), (*C.double)(a.p), C.int(lda),
		(*C.double)(tau.p), (*C.double)(work.p), C.int(lwork), (*C.int)(info.p)))
}

// DorgqrBufferSize is cusolverDnDorgqr_bufferSize (lwork in doubles).
func (s Solver) DorgqrBufferSize(m, n, k int, a DevicePtr, lda int, tau DevicePtr) (int, error) {
	var lw C.int
	err := solverErr("cusolverDnDorgqr_bufferSize", C.rc_cusolverDnDorgqr_bufferSize(s.h, C.int(m), C.int(n), C.int(k),
		(*C.double)(a.p), C.int(lda), (*C.double)(tau.p), &lw))
	return int(lw), err
}

// Dorgqr is cusolverDnDorgqr: overwrites a with the first n columns of Q from
// Dgeqrf's k reflectors.
func (s Solver) Dorgqr(m, n, k int, a DevicePtr, lda int, tau, work DevicePtr, lwork int, info DevicePtr) error {
	return solverErr("cusolverDnDorgqr", C.rc_cusolverDnDorgqr(s.h, C.int(m), C.int(n), C.int(k), (*C.double)(a.p),
		C.int(lda), (*C.double)(tau.p), (*C.double)(work.p), C.int(lwork), (*C.int)(info.p)))
}

// EigenpairsFound is the meig output of the last Xsyevdx: the number of
// eigenpairs it computed, or −1 when the call did not write it. Read it after
// synchronizing the solver's stream.
func (s Solver) EigenpairsFound() int64 { return int64(*s.meig()) }
