package localstore

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"catalyst.dev/sdk/plugin"
)

// Key limits. A segment becomes a file name, and the hidden temp and
// sidecar names add a dot and a suffix to it, so segments stay well below
// the 255 bytes most filesystems allow.
const (
	maxKeyLen     = 1024
	maxSegmentLen = 200
)

// checkKey validates an object key: "/"-separated segments that map
// one-to-one onto directories and a file name under the store's dir.
func checkKey(key string) ([]string, error) {
	if key == "" {
		return nil, fmt.Errorf("key is empty: %w", plugin.ErrInvalidArgument)
	}
	if err := checkChars(key, "key"); err != nil {
		return nil, err
	}
	if strings.HasPrefix(key, "/") {
		return nil, fmt.Errorf("key %q starts with \"/\": %w", key, plugin.ErrInvalidArgument)
	}
	segs := strings.Split(key, "/")
	for _, s := range segs {
		if err := checkSegment(key, s); err != nil {
			return nil, err
		}
	}
	return segs, nil
}

// checkPrefix validates a List prefix: like a key, except that it may be
// empty, end with "/" or end in a partial segment.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkChars(prefix, "prefix"); err != nil {
		return err
	}
	if strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("prefix %q starts with \"/\": %w", prefix, plugin.ErrInvalidArgument)
	}
	segs := strings.Split(prefix, "/")
	// The last segment may be partial ("serv") or empty (after a "/").
	for _, s := range segs[:len(segs)-1] {
		if err := checkSegment(prefix, s); err != nil {
			return err
		}
	}
	return nil
}

func checkChars(s, what string) error {
	if len(s) > maxKeyLen {
		return fmt.Errorf("%s is %d bytes long, the limit is %d: %w", what, len(s), maxKeyLen, plugin.ErrInvalidArgument)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8: %w", what, s, plugin.ErrInvalidArgument)
	}
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return fmt.Errorf("%s %q contains the control character %U: %w", what, s, r, plugin.ErrInvalidArgument)
		case r == '\\':
			return fmt.Errorf("%s %q contains a backslash: %w", what, s, plugin.ErrInvalidArgument)
		}
	}
	return nil
}

func checkSegment(key, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("key %q has an empty segment (leading, trailing or double \"/\"): %w", key, plugin.ErrInvalidArgument)
	case s == "." || s == "..":
		return fmt.Errorf("key %q has a %q segment: %w", key, s, plugin.ErrInvalidArgument)
	case strings.HasPrefix(s, "."):
		// Hidden names are the store's own: temp files and metadata sidecars.
		return fmt.Errorf("key %q has a segment starting with \".\" (reserved for the store's own files): %w", key, plugin.ErrInvalidArgument)
	case len(s) > maxSegmentLen:
		return fmt.Errorf("key %q has a segment of %d bytes, the limit is %d: %w", key, len(s), maxSegmentLen, plugin.ErrInvalidArgument)
	}
	return nil
}
