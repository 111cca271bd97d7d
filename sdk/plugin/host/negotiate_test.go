package host

import (
	"strings"
	"testing"

	"catalyst.dev/sdk/plugin"
)

func TestNegotiateAPIVersion(t *testing.T) {
	tests := []struct {
		name    string
		info    plugin.Info
		want    string
		wantErr []string
	}{
		{name: "shared version", info: plugin.Info{Name: "s3", Kind: plugin.KindBackupStore, APIVersions: []string{"v1"}}, want: "v1"},
		{name: "newer plugin still speaking v1", info: plugin.Info{Name: "s3", Kind: plugin.KindBackupStore, APIVersions: []string{"v2", "v1"}}, want: "v1"},
		{name: "no shared version", info: plugin.Info{Name: "s3", Version: "2.0.0", Kind: plugin.KindBackupStore, APIVersions: []string{"v2"}},
			wantErr: []string{`plugin "backups"`, "backup_store", "[v2]", "[v1]", "2.0.0"}},
		{name: "unknown kind", info: plugin.Info{Name: "x", Kind: "dns", APIVersions: []string{"v1"}},
			wantErr: []string{`unknown kind "dns"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := negotiate("backups", tt.info)
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error, got %q", got)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestBackoffGrowsToItsCap(t *testing.T) {
	h := &Host{backoffMin: 100, backoffMax: 1000}
	var got []int64
	for n := range 7 {
		got = append(got, int64(h.backoff(n)))
	}
	want := []int64{0, 100, 200, 400, 800, 1000, 1000}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoff = %v, want %v", got, want)
		}
	}
}
