package localstore

import (
	"strings"

	"catalyst.dev/sdk/plugin"
)

// maxSegmentLen bounds a key segment, which becomes a file name (the
// hidden temp and sidecar names add a dot and a suffix to it).
const maxSegmentLen = plugin.MaxKeySegmentBytes

// checkKey validates an object key (plugin.CheckKey): "/"-separated
// segments that map one-to-one onto directories and a file name under the
// store's dir.
func checkKey(key string) ([]string, error) {
	if err := plugin.CheckKey(key); err != nil {
		return nil, err
	}
	return strings.Split(key, "/"), nil
}

// checkPrefix validates a List prefix (plugin.CheckKeyPrefix).
func checkPrefix(prefix string) error { return plugin.CheckKeyPrefix(prefix) }
