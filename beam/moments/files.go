package moments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
)

// isLocal reports whether p names a file of the local filesystem (no
// scheme), which the data readers open in place.
func isLocal(p string) bool { return !strings.Contains(p, "://") }

// shardFiles makes shards readable as local files: a local path is itself,
// any other (gs://, s3://) is copied through Beam's filesystem into a fresh
// directory, under its own base name. The data readers need files: they
// read a header, seek to the body and check a gzip trailer. cleanup removes
// the copies; names maps each copy back to its shard, for messages.
type shardFiles struct {
	dir   string
	names []string // copy, shard, copy, shard…
}

func (f *shardFiles) local(ctx context.Context, p string) (string, error) {
	if p == "" || isLocal(p) {
		return p, nil
	}
	if f.dir == "" {
		dir, err := os.MkdirTemp("", "reconalign-beam-shards")
		if err != nil {
			return "", err
		}
		f.dir = dir
	}
	fs, err := filesystem.New(ctx, p)
	if err != nil {
		return "", err
	}
	defer fs.Close()
	r, err := fs.OpenRead(ctx, p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	defer r.Close()
	// Shards of one glob can share a base name in different folders.
	dst := filepath.Join(f.dir, fmt.Sprintf("%d-%s", len(f.names)/2, path.Base(p)))
	w, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return "", fmt.Errorf("%s: copying to the worker: %w", p, err)
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	f.names = append(f.names, dst, p)
	return dst, nil
}

// rename writes the shards' own names into an error about their copies.
func (f *shardFiles) rename(err error) error {
	if err == nil || len(f.names) == 0 {
		return err
	}
	return errors.New(strings.NewReplacer(f.names...).Replace(err.Error()))
}

func (f *shardFiles) cleanup() {
	if f.dir != "" {
		os.RemoveAll(f.dir)
		f.dir, f.names = "", nil
	}
}

// writeOutput gives write a local path to produce the file out at: out
// itself when it is local (engine.SaveMoments writes a temporary file and
// renames it), else a temporary file that is then copied to out through
// Beam's filesystem (object stores commit an object when its writer
// closes, so a failed copy leaves no partial object).
func writeOutput(ctx context.Context, out string, write func(local string) error) error {
	if isLocal(out) {
		return write(out)
	}
	dir, err := os.MkdirTemp("", "reconalign-beam-out")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	local := filepath.Join(dir, path.Base(out))
	if err := write(local); err != nil {
		return errors.New(strings.ReplaceAll(err.Error(), local, out))
	}
	fs, err := filesystem.New(ctx, out)
	if err != nil {
		return err
	}
	defer fs.Close()
	r, err := os.Open(local)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := fs.OpenWrite(ctx, out)
	if err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return fmt.Errorf("%s: %w", out, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	return nil
}
