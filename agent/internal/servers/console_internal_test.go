package servers

import (
	"slices"
	"strings"
	"testing"
)

func TestLineSplitter(t *testing.T) {
	long := strings.Repeat("x", maxLineBytes+10)
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"whole lines", []string{"a\nb\n"}, []string{"a", "b"}},
		{"line split across writes", []string{"hel", "lo\nwor", "ld\n"}, []string{"hello", "world"}},
		{"CRLF endings", []string{"a\r\nb\r\n"}, []string{"a", "b"}},
		{"empty lines kept", []string{"\n\n"}, []string{"", ""}},
		{"unfinished last line flushed", []string{"a\nb"}, []string{"a", "b"}},
		{"overlong line cut", []string{long + "\n"}, []string{long[:maxLineBytes], long[maxLineBytes:]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			l := &lineSplitter{emit: func(s string) { got = append(got, s) }}
			for _, w := range tt.writes {
				if n, err := l.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			l.Flush()
			if !slices.Equal(got, tt.want) {
				t.Errorf("lines %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHistoryKeepsTheNewestLines(t *testing.T) {
	h := newHistory(3)
	if got := h.last(10); len(got) != 0 {
		t.Fatalf("empty history returned %q", got)
	}
	for _, l := range []string{"a", "b"} {
		h.add(l)
	}
	if got := strings.Join(h.last(10), ","); got != "a,b" {
		t.Fatalf("before wrapping: %q", got)
	}
	for _, l := range []string{"c", "d", "e"} {
		h.add(l)
	}
	tests := []struct {
		n    int
		want string
	}{{10, "c,d,e"}, {3, "c,d,e"}, {2, "d,e"}, {1, "e"}, {0, ""}, {-1, ""}}
	for _, tt := range tests {
		if got := strings.Join(h.last(tt.n), ","); got != tt.want {
			t.Errorf("last(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
