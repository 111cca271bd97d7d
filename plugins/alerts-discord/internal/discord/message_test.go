package discord

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"catalyst.dev/sdk/plugin"
)

func TestCrashAlertEmbed(t *testing.T) {
	rc := newReceiver(t)
	s := newSink(t, rc, nil)
	if err := s.Deliver(context.Background(), crashAlert("a-1")); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	m, e := rc.last(t)
	p := rc.messages()[0]
	if p.path != "/api/v10/webhooks/1/"+token || p.query.Get("wait") != "true" {
		t.Errorf("posted to %s?%s, want /api/v10/webhooks/1/<token>?wait=true", p.path, p.query.Encode())
	}
	if e.Title != "Server crashed" || e.URL != "https://panel.example.com/servers/3f0c9f5e" {
		t.Errorf("title %q linking to %q", e.Title, e.URL)
	}
	if e.Description != "survival-1 exited with code 137 (out of memory)" {
		t.Errorf("description %q", e.Description)
	}
	if e.Color != 0xE74C3C {
		t.Errorf("colour %#x, want critical red 0xE74C3C", e.Color)
	}
	if e.Timestamp != "2026-11-21T02:00:00Z" {
		t.Errorf("timestamp %q, want OccurredAt in UTC, RFC 3339", e.Timestamp)
	}
	if e.Footer.Text != "Catalyst · a-1" {
		t.Errorf("footer %q", e.Footer.Text)
	}
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Name)
		if !f.Inline {
			t.Errorf("field %q is not inline", f.Name)
		}
	}
	// Fixed fields first, then the other labels by key; type, status and
	// the names are shown in their own fields, not again.
	want := []string{"Severity", "Type", "Server", "Node", "exit_code", "game", "rule"}
	if !slices.Equal(names, want) {
		t.Errorf("fields %q, want %q", names, want)
	}
	for name, value := range map[string]string{
		"Severity": "critical",
		"Type":     "server_crashed",
		"Server":   "survival-1 `3f0c9f5e-1f1e-4d43-8d1e-6f0e2b7c9a10`",
		"Node":     "Frankfurt 1 `node-eu-1`",
		"rule":     "crashes",
	} {
		if got, _ := e.field(name); got != value {
			t.Errorf("field %s = %q, want %q", name, got, value)
		}
	}
	if m.Content != "" {
		t.Errorf("content %q without a mention configured", m.Content)
	}
	if m.AllowedMentions == nil || m.AllowedMentions.Parse == nil || len(m.AllowedMentions.Parse)+len(m.AllowedMentions.Roles)+len(m.AllowedMentions.Users) != 0 {
		t.Errorf("allowed_mentions %+v, want parse: [] and nothing else", m.AllowedMentions)
	}
}

func TestResolvedAlertEmbed(t *testing.T) {
	rc := newReceiver(t)
	s := newSink(t, rc, map[string]any{"mention": "<@&42>"})
	a := crashAlert("a-1:resolved")
	a.Title, a.Body = "Memory back to normal", ""
	a.Labels[plugin.LabelStatus] = plugin.StatusResolved
	a.Labels[plugin.LabelType] = "memory"
	a.Labels[plugin.LabelValue] = "61.2%"
	if err := s.Deliver(context.Background(), a); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	m, e := rc.last(t)
	if e.Title != "[RESOLVED] Memory back to normal" {
		t.Errorf("title %q", e.Title)
	}
	if e.Color != 0x2ECC71 {
		t.Errorf("colour %#x, want resolved green 0x2ECC71 even for a critical alert", e.Color)
	}
	if e.Description != "" {
		t.Errorf("description %q for an empty body", e.Description)
	}
	if v, _ := e.field("Value"); v != "61.2%" {
		t.Errorf("Value field %q", v)
	}
	if _, ok := e.field("status"); ok {
		t.Error("the status label is repeated as a field")
	}
	if e.Footer.Text != "Catalyst · a-1:resolved" {
		t.Errorf("footer %q", e.Footer.Text)
	}
	if m.Content != "" || len(m.AllowedMentions.Roles) != 0 {
		t.Errorf("a resolved alert pings: content %q, allowed_mentions %+v", m.Content, m.AllowedMentions)
	}
}

func TestColourAndMentionBySeverity(t *testing.T) {
	tests := []struct {
		severity    plugin.Severity
		colour      int
		wantMention bool
	}{
		{plugin.SeverityCritical, 0xE74C3C, true},
		{plugin.SeverityWarning, 0xF39C12, false},
		{plugin.SeverityInfo, 0x3498DB, false},
	}
	rc := newReceiver(t)
	s := newSink(t, rc, map[string]any{"mention": "<@&123> <@!77>"})
	for _, tt := range tests {
		t.Run(tt.severity.String(), func(t *testing.T) {
			a := crashAlert("sev-" + tt.severity.String())
			a.Severity = tt.severity
			if err := s.Deliver(context.Background(), a); err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			m, e := rc.last(t)
			if e.Color != tt.colour {
				t.Errorf("colour %#x, want %#x", e.Color, tt.colour)
			}
			am := m.AllowedMentions
			if !tt.wantMention {
				if m.Content != "" || len(am.Parse)+len(am.Roles)+len(am.Users) != 0 {
					t.Errorf("pings on a %s alert: content %q, allowed_mentions %+v", tt.severity, m.Content, am)
				}
				return
			}
			if m.Content != "<@&123> <@!77> Server crashed" {
				t.Errorf("content %q, want the mention before the title", m.Content)
			}
			if am.Parse == nil || len(am.Parse) != 0 || !slices.Equal(am.Roles, []string{"123"}) || !slices.Equal(am.Users, []string{"77"}) {
				t.Errorf("allowed_mentions %+v, want parse [] with role 123 and user 77 only", am)
			}
		})
	}
}

func TestMentionConfig(t *testing.T) {
	tests := []struct {
		mention string
		parse   []string
		roles   []string
		users   []string
	}{
		{"@here", []string{"everyone"}, nil, nil},
		{"@everyone <@&1>", []string{"everyone"}, []string{"1"}, nil},
		{"  <@5>\t<@!6> <@5> ", []string{}, nil, []string{"5", "6"}},
	}
	for _, tt := range tests {
		t.Run(tt.mention, func(t *testing.T) {
			_, pings, err := parseMention(tt.mention)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pings.Parse, tt.parse) || !slices.Equal(pings.Roles, tt.roles) || !slices.Equal(pings.Users, tt.users) {
				t.Errorf("allowed mentions %+v, want parse %q roles %q users %q", pings, tt.parse, tt.roles, tt.users)
			}
		})
	}
}

func TestMinimalAlert(t *testing.T) {
	rc := newReceiver(t)
	s := newSink(t, rc, nil)
	if err := s.Deliver(context.Background(), plugin.Alert{ID: "min", Severity: plugin.SeverityInfo, Labels: map[string]string{"empty": " "}}); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	_, e := rc.last(t)
	if e.Title != "Alert" || e.Timestamp != "" || e.URL != "" {
		t.Errorf("title %q, timestamp %q, url %q", e.Title, e.Timestamp, e.URL)
	}
	// Discord refuses empty field values.
	if v, _ := e.field("empty"); v != "—" {
		t.Errorf("blank label shown as %q, want —", v)
	}
	if _, ok := e.field("Server"); ok {
		t.Error("a Server field for an alert without a server")
	}
}

func TestBadAlertLinkDropped(t *testing.T) {
	rc := newReceiver(t)
	s := newSink(t, rc, nil)
	a := crashAlert("link")
	a.URL = "javascript:alert(1)"
	if err := s.Deliver(context.Background(), a); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if _, e := rc.last(t); e.URL != "" {
		t.Errorf("embed links to %q", e.URL)
	}
}

// Discord's limits, in characters.
func checkLimits(t *testing.T, m wireMessage) {
	t.Helper()
	count := func(what, s string, max int) int {
		if !utf8.ValidString(s) {
			t.Errorf("%s is not valid UTF-8: %q", what, s)
		}
		if n := utf8.RuneCountInString(s); n > max {
			t.Errorf("%s has %d characters, Discord allows %d", what, n, max)
		}
		return utf8.RuneCountInString(s)
	}
	count("content", m.Content, 2000)
	for _, e := range m.Embeds {
		total := count("title", e.Title, 256) + count("description", e.Description, 4096) + count("footer", e.Footer.Text, 2048)
		if e.Author != nil {
			total += count("author name", e.Author.Name, 256)
		}
		if len(e.Fields) > 25 {
			t.Errorf("%d fields, Discord allows 25", len(e.Fields))
		}
		for i, f := range e.Fields {
			total += count(fmt.Sprintf("field %d name", i), f.Name, 256) + count(fmt.Sprintf("field %d value", i), f.Value, 1024)
			if strings.TrimSpace(f.Name) == "" || strings.TrimSpace(f.Value) == "" {
				t.Errorf("field %d is empty: %q = %q", i, f.Name, f.Value)
			}
		}
		if total > 6000 {
			t.Errorf("embed text totals %d characters, Discord allows 6000", total)
		}
	}
}

func TestMessagesFitDiscordLimits(t *testing.T) {
	// "é" is 2 bytes, "€" 3 and "🎮" 4: each test text puts multi-byte
	// runes where the cut falls.
	manyLabels := func(n int, value string) map[string]string {
		l := map[string]string{}
		for i := range n {
			l[fmt.Sprintf("label-%02d", i)] = value
		}
		return l
	}
	tests := []struct {
		name  string
		alert plugin.Alert
		check func(t *testing.T, m wireMessage, e wireEmbed)
	}{
		{
			name:  "oversize title",
			alert: plugin.Alert{Title: strings.Repeat("é", 300), Severity: plugin.SeverityCritical},
			check: func(t *testing.T, m wireMessage, e wireEmbed) {
				if e.Title != strings.Repeat("é", 255)+"…" {
					t.Errorf("title cut to %q", e.Title)
				}
				if !strings.HasSuffix(m.Content, "…") {
					t.Errorf("content %q does not end with the cut title", m.Content)
				}
			},
		},
		{
			name:  "oversize body",
			alert: plugin.Alert{Title: "t", Body: "a" + strings.Repeat("🎮", 5000)},
			check: func(t *testing.T, _ wireMessage, e wireEmbed) {
				if utf8.RuneCountInString(e.Description) != 4096 || !strings.HasSuffix(e.Description, "🎮…") {
					t.Errorf("description cut to %d characters ending %q", utf8.RuneCountInString(e.Description), lastRunes(e.Description, 3))
				}
			},
		},
		{
			name: "oversize label key and value",
			alert: plugin.Alert{Title: "t", Labels: map[string]string{
				strings.Repeat("€", 300): strings.Repeat("€", 2000),
			}},
			check: func(t *testing.T, _ wireMessage, e wireEmbed) {
				f := e.Fields[len(e.Fields)-1]
				if f.Name != strings.Repeat("€", 255)+"…" || f.Value != strings.Repeat("€", 1023)+"…" {
					t.Errorf("label field cut to %d/%d characters", utf8.RuneCountInString(f.Name), utf8.RuneCountInString(f.Value))
				}
			},
		},
		{
			name:  "too many labels",
			alert: plugin.Alert{Title: "t", ServerID: "s", Labels: manyLabels(40, "v")},
			check: func(t *testing.T, _ wireMessage, e wireEmbed) {
				if len(e.Fields) != 25 {
					t.Errorf("%d fields, want the first 25", len(e.Fields))
				}
				// Severity and Server, then labels 00 to 22.
				if last := e.Fields[len(e.Fields)-1].Name; last != "label-22" {
					t.Errorf("last field %q, want label-22", last)
				}
			},
		},
		{
			name: "total over 6000 shrinks the description",
			alert: plugin.Alert{
				Title: "t", Body: strings.Repeat("ü", 4096),
				Labels: manyLabels(3, strings.Repeat("x", 1000)),
			},
			check: func(t *testing.T, _ wireMessage, e wireEmbed) {
				if len(e.Fields) != 4 {
					t.Errorf("%d fields, want all 4 kept", len(e.Fields))
				}
				if n := utf8.RuneCountInString(e.Description); n >= 4096 || n < 2000 || !strings.HasSuffix(e.Description, "ü…") {
					t.Errorf("description of %d characters ending %q, want it shortened just enough", n, lastRunes(e.Description, 2))
				}
			},
		},
		{
			name: "total over 6000 with huge labels drops trailing fields",
			alert: plugin.Alert{
				Title: "t", Body: strings.Repeat("ü", 4096), ServerID: "srv",
				Labels: manyLabels(20, strings.Repeat("€", 1024)),
			},
			check: func(t *testing.T, _ wireMessage, e wireEmbed) {
				if n := utf8.RuneCountInString(e.Description); n != 1024 {
					t.Errorf("description of %d characters, want the 1024 kept", n)
				}
				if len(e.Fields) < 2 || len(e.Fields) > 6 || e.Fields[0].Name != "Severity" || e.Fields[1].Name != "Server" {
					t.Errorf("fields %d, want the fixed ones first and a few labels", len(e.Fields))
				}
			},
		},
		{
			name:  "long alert ID in the footer",
			alert: plugin.Alert{ID: strings.Repeat("日本", 1500), Title: "t"},
			check: func(t *testing.T, _ wireMessage, e wireEmbed) {
				if !strings.HasPrefix(e.Footer.Text, "Catalyst · 日本") || !strings.HasSuffix(e.Footer.Text, "…") {
					t.Errorf("footer %q…", lastRunes(e.Footer.Text, 5))
				}
			},
		},
		{
			name:  "invalid UTF-8 in the body",
			alert: plugin.Alert{Title: "t", Body: "ok \xff\xfe bytes"},
			check: func(t *testing.T, _ wireMessage, e wireEmbed) {
				if e.Description != "ok \uFFFD bytes" {
					t.Errorf("description %q", e.Description)
				}
			},
		},
	}
	rc := newReceiver(t)
	s := newSink(t, rc, map[string]any{"mention": strings.Repeat("<@&1234567890> ", 66)})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.alert.ID = cmp.Or(tt.alert.ID, fmt.Sprintf("limits-%d", i))
			if err := s.Deliver(context.Background(), tt.alert); err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			m, e := rc.last(t)
			checkLimits(t, m)
			tt.check(t, m, e)
		})
	}
}

func lastRunes(s string, n int) string {
	r := []rune(s)
	return string(r[max(len(r)-n, 0):])
}

func TestCut(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"  trimmed  ", 7, "trimmed"},
		{"abcdef", 4, "abc…"},
		{"ab   cdef", 4, "ab…"},
		{"ééééé", 3, "éé…"},
		{"🎮🎮🎮", 2, "🎮…"},
		{"a€b", 1, "…"},
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.in, tt.n), func(t *testing.T) {
			got := cut(tt.in, tt.n)
			if got != tt.want || !utf8.ValidString(got) || utf8.RuneCountInString(got) > tt.n {
				t.Errorf("cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}
