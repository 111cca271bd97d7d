package files

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// checkXZ reads the index of every stream in the xz file r and the header
// of every block, and refuses a block whose LZMA2 dictionary is larger
// than maxDict. The decoder allocates each block's dictionary whole, as
// its header declares (up to 4 GiB), before any data shows whether the
// archive is honest; this is the one place to refuse it. The layout is
// the xz file format's (tukaani.org/xz/xz-file-format.txt): streams of
// header, blocks, index and footer, each stream perhaps followed by
// zero padding.
func checkXZ(r io.ReaderAt, size, maxDict int64) error {
	bad := func(what string) error { return fmt.Errorf("%w: not a readable xz file: %s", ErrInvalid, what) }
	end := size
	for end > 0 {
		var word [4]byte
		for end >= 4 {
			if _, err := r.ReadAt(word[:], end-4); err != nil {
				return err
			}
			if word != [4]byte{} {
				break
			}
			end -= 4
		}
		if end < 24 {
			return bad("too short")
		}
		var footer [12]byte
		if _, err := r.ReadAt(footer[:], end-12); err != nil {
			return err
		}
		if footer[10] != 'Y' || footer[11] != 'Z' {
			return bad("no stream footer")
		}
		indexSize := (int64(binary.LittleEndian.Uint32(footer[4:8])) + 1) * 4
		indexStart := end - 12 - indexSize
		if indexStart < 12 || indexSize > 64<<20 {
			return bad("impossible index size")
		}
		index := make([]byte, indexSize)
		if _, err := r.ReadAt(index, indexStart); err != nil {
			return err
		}
		blocks, err := indexRecords(index)
		if err != nil {
			return bad(err.Error())
		}
		var total int64
		for _, unpadded := range blocks {
			total += (unpadded + 3) &^ 3
			if total > indexStart {
				return bad("blocks larger than the file")
			}
		}
		start := indexStart - total - 12
		if start < 0 {
			return bad("blocks larger than the file")
		}
		var header [6]byte
		if _, err := r.ReadAt(header[:], start); err != nil {
			return err
		}
		if !bytes.Equal(header[:], []byte{0xfd, '7', 'z', 'X', 'Z', 0}) {
			return bad("no stream header where the index says")
		}
		off := start + 12
		for _, unpadded := range blocks {
			if err := checkBlock(r, off, maxDict); err != nil {
				return err
			}
			off += (unpadded + 3) &^ 3
		}
		end = start
	}
	return nil
}

// indexRecords reads an xz index: each block's unpadded size.
func indexRecords(index []byte) ([]int64, error) {
	if len(index) == 0 || index[0] != 0 {
		return nil, errors.New("no index")
	}
	rd := bytes.NewReader(index[1:])
	n, err := binary.ReadUvarint(rd)
	if err != nil || n > uint64(len(index))/2 {
		return nil, errors.New("impossible index")
	}
	out := make([]int64, 0, n)
	for range n {
		unpadded, err1 := binary.ReadUvarint(rd)
		_, err2 := binary.ReadUvarint(rd) // uncompressed size
		if err1 != nil || err2 != nil || unpadded == 0 || unpadded > 1<<62 {
			return nil, errors.New("impossible index record")
		}
		out = append(out, int64(unpadded))
	}
	return out, nil
}

// checkBlock reads the block header at off and checks its LZMA2
// dictionary size.
func checkBlock(r io.ReaderAt, off, maxDict int64) error {
	bad := func(what string) error { return fmt.Errorf("%w: not a readable xz file: %s", ErrInvalid, what) }
	var first [1]byte
	if _, err := r.ReadAt(first[:], off); err != nil {
		return err
	}
	if first[0] == 0 {
		return bad("an index where a block should be")
	}
	h := make([]byte, (int(first[0])+1)*4)
	if _, err := r.ReadAt(h, off); err != nil {
		return err
	}
	flags := h[1]
	rd := bytes.NewReader(h[2:])
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} { // compressed, uncompressed size
		if present {
			if _, err := binary.ReadUvarint(rd); err != nil {
				return bad("a block header cut short")
			}
		}
	}
	for range int(flags&3) + 1 {
		id, err1 := binary.ReadUvarint(rd)
		n, err2 := binary.ReadUvarint(rd)
		if err1 != nil || err2 != nil || n > uint64(rd.Len()) {
			return bad("a block header cut short")
		}
		props := make([]byte, n)
		if _, err := io.ReadFull(rd, props); err != nil {
			return bad("a block header cut short")
		}
		if id != 0x21 { // LZMA2; the other filters have no dictionary
			continue
		}
		if n != 1 || props[0] > 40 {
			return bad("impossible LZMA2 properties")
		}
		dict := int64(1<<32 - 1)
		if b := props[0]; b < 40 {
			dict = int64(2|b&1) << (b/2 + 11)
		}
		if dict > maxDict {
			return fmt.Errorf("%w: the xz file needs a %s dictionary, more than the %s the agent decodes with", ErrInvalid, formatBytes(dict), formatBytes(maxDict))
		}
	}
	return nil
}
