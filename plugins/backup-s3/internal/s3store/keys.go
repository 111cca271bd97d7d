package s3store

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"catalyst.dev/sdk/plugin"
)

// Key limits: S3 allows 1024 bytes a key, the store's prefix included;
// keys follow the SDK's grammar (plugin.CheckKey), as backup-local's do.
const (
	maxKeyLen    = plugin.MaxKeyBytes
	maxPrefixLen = 512
)

func checkKey(key string) error { return plugin.CheckKey(key) }

func checkPrefix(prefix string) error { return plugin.CheckKeyPrefix(prefix) }

// User metadata travels as x-amz-meta-<key> headers. S3 lower-cases the
// keys and allows 2 KiB in all; values must be header-safe ASCII, so others
// are sent as RFC 2047 encoded words, which S3 itself uses for them.
const (
	metaHeaderPrefix = "X-Amz-Meta-"
	maxMetaBytes     = 2048
)

// encodeMeta turns metadata into the headers of a Put. A key S3 would not
// return unchanged is refused rather than silently renamed.
func encodeMeta(meta map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(meta))
	total := 0
	for k, v := range meta {
		if !validMetaKey(k) {
			return nil, fmt.Errorf("metadata key %q: S3 returns metadata keys in lower case; use lower-case letters, digits, \"-\" and \"_\": %w", k, plugin.ErrInvalidArgument)
		}
		if !utf8.ValidString(v) {
			return nil, fmt.Errorf("metadata %q: value is not valid UTF-8: %w", k, plugin.ErrInvalidArgument)
		}
		if needsEncoding(v) {
			v = "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(v)) + "?="
		}
		total += len(k) + len(v)
		out["x-amz-meta-"+k] = v
	}
	if total > maxMetaBytes {
		return nil, fmt.Errorf("metadata is %d bytes encoded; S3 allows %d: %w", total, maxMetaBytes, plugin.ErrInvalidArgument)
	}
	return out, nil
}

func validMetaKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// needsEncoding: anything but printable ASCII, surrounding spaces (HTTP
// trims them) and text that would itself decode as an encoded word.
func needsEncoding(v string) bool {
	if strings.TrimSpace(v) != v || strings.Contains(v, "=?") {
		return true
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return true
		}
	}
	return false
}

// decodeMeta picks the user metadata out of the headers minio-go returns,
// which has already decoded the RFC 2047 values (those starting "=?";
// encodeMeta makes every encoded value start so).
func decodeMeta(h http.Header) map[string]string {
	var out map[string]string
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic if a server sends a key twice in different case
	for _, k := range keys {
		name, ok := cutPrefixFold(k, metaHeaderPrefix)
		if !ok || len(h[k]) == 0 {
			continue
		}
		v := h[k][0]
		if out == nil {
			out = map[string]string{}
		}
		out[strings.ToLower(name)] = v
	}
	return out
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}
