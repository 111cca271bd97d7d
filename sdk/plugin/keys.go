package plugin

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits of backup store keys: S3 allows 1024 bytes a key, and a segment
// stays well below the 255 bytes most filesystems allow a name, so a key
// valid for one store is valid for every store.
const (
	MaxKeyBytes        = 1024
	MaxKeySegmentBytes = 200
)

// CheckKey validates a backup store key as every shipped store does:
// "/"-separated segments, none empty, "." or "..", or starting with "."
// (hidden names are a store's own files); no leading "/", no backslash,
// no control characters, valid UTF-8, within the limits. The error wraps
// ErrInvalidArgument. Store authors may call it first thing in each
// method.
func CheckKey(key string) error {
	if key == "" {
		return fmt.Errorf("key is empty: %w", ErrInvalidArgument)
	}
	if err := checkKeyChars(key, "key"); err != nil {
		return err
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("key %q starts with \"/\": %w", key, ErrInvalidArgument)
	}
	for s := range strings.SplitSeq(key, "/") {
		if err := checkKeySegment(key, s); err != nil {
			return err
		}
	}
	return nil
}

// CheckKeyPrefix validates a List prefix: like a key, except that it may
// be empty, end with "/" or end in a partial segment.
func CheckKeyPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkKeyChars(prefix, "prefix"); err != nil {
		return err
	}
	if strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("prefix %q starts with \"/\": %w", prefix, ErrInvalidArgument)
	}
	segs := strings.Split(prefix, "/")
	// The last segment may be partial ("serv") or empty (after a "/").
	for _, s := range segs[:len(segs)-1] {
		if err := checkKeySegment(prefix, s); err != nil {
			return err
		}
	}
	return nil
}

func checkKeyChars(s, what string) error {
	if len(s) > MaxKeyBytes {
		return fmt.Errorf("%s is %d bytes long, the limit is %d: %w", what, len(s), MaxKeyBytes, ErrInvalidArgument)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8: %w", what, s, ErrInvalidArgument)
	}
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return fmt.Errorf("%s %q contains the control character %U: %w", what, s, r, ErrInvalidArgument)
		case r == '\\':
			return fmt.Errorf("%s %q contains a backslash: %w", what, s, ErrInvalidArgument)
		}
	}
	return nil
}

func checkKeySegment(key, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("key %q has an empty segment (leading, trailing or double \"/\"): %w", key, ErrInvalidArgument)
	case s == "." || s == "..":
		return fmt.Errorf("key %q has a %q segment: %w", key, s, ErrInvalidArgument)
	case strings.HasPrefix(s, "."):
		return fmt.Errorf("key %q has a segment starting with \".\" (reserved for a store's own files): %w", key, ErrInvalidArgument)
	case len(s) > MaxKeySegmentBytes:
		return fmt.Errorf("key %q has a segment of %d bytes, the limit is %d: %w", key, len(s), MaxKeySegmentBytes, ErrInvalidArgument)
	}
	return nil
}
