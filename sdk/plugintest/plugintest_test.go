package plugintest_test

import (
	"errors"
	"testing"

	"catalyst.dev/sdk/internal/testplugins/dirstore"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugintest"
)

// The suites run here against the SDK's own test plugins in-process; the
// examples run them in-process and against their built binaries.

func TestBackupStoreSuite(t *testing.T) {
	plugintest.BackupStore(t, plugintest.InProcess(&dirstore.Store{}), plugintest.BackupStoreOptions{
		Config:    map[string]any{"dir": t.TempDir(), "tags": []string{"a"}, "labels": map[string]string{"k": "v"}},
		LargeSize: 8 << 20,
	})
}

func TestAlertSinkSuite(t *testing.T) {
	plugintest.AlertSink(t, plugintest.InProcess(&dirstore.Sink{}), plugintest.AlertSinkOptions{
		Config: map[string]any{"channel": "ops"},
		Failures: []plugintest.AlertFailure{
			{Name: "rate limited", Alerts: []plugin.Alert{{ID: "1", Title: "rate-limited"}}, WantRetryable: true, WantRetryAfter: true},
			{Name: "gone", Alerts: []plugin.Alert{{ID: "2", Title: "gone"}}},
		},
	})
}

func TestDeliveryErrorKeepsItsCause(t *testing.T) {
	cause := errors.New("HTTP 503")
	err := plugin.RetryableError(cause, 0)
	var de *plugin.DeliveryError
	if !errors.As(err, &de) || !de.Retryable || !errors.Is(err, cause) {
		t.Fatalf("got %#v", err)
	}
}
