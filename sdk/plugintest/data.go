package plugintest

import (
	"crypto/sha256"
	"hash"
	"io"
	"math/rand/v2"
)

// patternReader yields n reproducible pseudo-random bytes without holding
// them in memory, hashing them as they go.
type patternReader struct {
	rng  *rand.ChaCha8
	left int64
	sum  hash.Hash
}

func newPattern(seed uint64, n int64) *patternReader {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return &patternReader{rng: rand.NewChaCha8(s), left: n, sum: sha256.New()}
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, _ := r.rng.Read(p)
	r.left -= int64(n)
	r.sum.Write(p[:n])
	return n, nil
}

// digest is the sha256 of everything read so far.
func (r *patternReader) digest() [32]byte {
	var d [32]byte
	r.sum.Sum(d[:0])
	return d
}

// hashAll reads r to the end and returns its length and sha256.
func hashAll(r io.Reader) (int64, [32]byte, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	var d [32]byte
	h.Sum(d[:0])
	return n, d, err
}
