package data

// WithProgress reports the rows read in each pass over src to progress,
// called after every batch with the rows done so far in that pass and
// Meta().N.
func WithProgress(src Source, progress func(done, total int)) Source {
	if progress == nil {
		return src
	}
	return progressSource{src, progress}
}

type progressSource struct {
	Source
	progress func(done, total int)
}

func (p progressSource) Open(rows int) (Reader, error) {
	r, err := p.Source.Open(rows)
	if err != nil {
		return nil, err
	}
	return &progressReader{Reader: r, progress: p.progress, total: p.Meta().N}, nil
}

type progressReader struct {
	Reader
	progress    func(done, total int)
	done, total int
}

func (r *progressReader) Next() (Batch, error) {
	b, err := r.Reader.Next()
	if err == nil {
		r.done += b.X.N
		r.progress(r.done, r.total)
	}
	return b, err
}

// Resident passes the wrapped reader's answer on.
func (r *progressReader) Resident() bool {
	rr, ok := r.Reader.(Resident)
	return ok && rr.Resident()
}
