package discord

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"catalyst.dev/sdk/plugin"
)

// Discord's limits on a webhook message, in characters (Unicode code
// points). A message over any of them is refused with HTTP 400.
const (
	maxContent     = 2000
	maxTitle       = 256
	maxDescription = 4096
	maxFieldName   = 256
	maxFieldValue  = 1024
	maxFields      = 25
	maxFooter      = 2048
	// maxEmbedText bounds the title, description, field names and values,
	// footer and author name of all embeds together.
	maxEmbedText = 6000
)

// descriptionFloor is how much of the body an oversize embed keeps before
// its trailing fields go: the body says what happened, the last fields
// are the least telling labels. Title, floor and footer together stay far
// below maxEmbedText, so dropping fields always makes the embed fit.
const descriptionFloor = 1024

// Embed colours (0xRRGGBB).
const (
	colourCritical = 0xE74C3C
	colourWarning  = 0xF39C12
	colourInfo     = 0x3498DB
	colourResolved = 0x2ECC71
)

// emptyValue stands in for an empty field value, which Discord refuses.
const emptyValue = "—"

const ellipsis = "…"

// message is the body of Discord's Execute Webhook call.
type message struct {
	Content         string          `json:"content,omitempty"`
	Username        string          `json:"username,omitempty"`
	AvatarURL       string          `json:"avatar_url,omitempty"`
	Embeds          []embed         `json:"embeds"`
	AllowedMentions allowedMentions `json:"allowed_mentions"`
}

type embed struct {
	Title       string       `json:"title"`
	URL         string       `json:"url,omitempty"`
	Description string       `json:"description,omitempty"`
	Color       int          `json:"color"`
	Fields      []embedField `json:"fields,omitempty"`
	Timestamp   string       `json:"timestamp,omitempty"`
	Footer      embedFooter  `json:"footer"`
}

type embedField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type embedFooter struct {
	Text string `json:"text"`
}

// newMessage renders a as one embed within Discord's limits. Critical
// alerts that fire carry st's mention; nothing else pings anyone.
func newMessage(a plugin.Alert, st style) message {
	resolved := a.Labels[plugin.LabelStatus] == plugin.StatusResolved
	e := embed{
		Title:       cut(title(a, resolved), maxTitle),
		Description: cut(a.Body, maxDescription),
		Color:       colour(a.Severity, resolved),
		Fields:      fields(a),
		Footer:      embedFooter{Text: cut(footer(a.ID), maxFooter)},
	}
	// Discord refuses the whole message over a bad link; drop the link.
	if isWebURL(a.URL) {
		e.URL = a.URL
	}
	if !a.OccurredAt.IsZero() {
		e.Timestamp = a.OccurredAt.UTC().Format(time.RFC3339)
	}
	e.fit()

	m := message{
		Username:        st.username,
		AvatarURL:       st.avatarURL,
		Embeds:          []embed{e},
		AllowedMentions: noPings(),
	}
	// A resolved alert is good news: no one needs waking for it.
	if st.mention != "" && a.Severity == plugin.SeverityCritical && !resolved {
		// The title after the mention makes the push notification say
		// what happened; an embed alone shows nothing there.
		m.Content = cut(st.mention+" "+e.Title, maxContent)
		m.AllowedMentions = st.pings
	}
	return m
}

func title(a plugin.Alert, resolved bool) string {
	t := strings.TrimSpace(a.Title)
	if t == "" {
		t = cmp.Or(a.Labels[plugin.LabelType], "Alert")
	}
	if resolved {
		t = "[RESOLVED] " + t
	}
	return t
}

func footer(id string) string {
	if id == "" {
		return "Catalyst"
	}
	return "Catalyst · " + id
}

func colour(s plugin.Severity, resolved bool) int {
	switch {
	case resolved:
		return colourResolved
	case s == plugin.SeverityCritical:
		return colourCritical
	case s == plugin.SeverityWarning:
		return colourWarning
	}
	return colourInfo
}

// shownElsewhere reports whether the embed shows label in its own way
// (title, colour, fixed fields) rather than as a field of its own.
func shownElsewhere(label string) bool {
	switch label {
	case plugin.LabelType, plugin.LabelStatus, plugin.LabelServerName, plugin.LabelNodeName, plugin.LabelValue:
		return true
	}
	return false
}

// fields lists the alert's facts, the fixed ones first, then the other
// labels by key, up to Discord's field count.
func fields(a plugin.Alert) []embedField {
	fs := []embedField{field("Severity", a.Severity.String())}
	add := func(name, value string) {
		if value != "" {
			fs = append(fs, field(name, value))
		}
	}
	add("Type", a.Labels[plugin.LabelType])
	add("Server", subject(a.Labels[plugin.LabelServerName], a.ServerID))
	add("Node", subject(a.Labels[plugin.LabelNodeName], a.NodeID))
	add("Value", a.Labels[plugin.LabelValue])
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		if len(fs) == maxFields {
			break
		}
		if !shownElsewhere(k) {
			fs = append(fs, field(k, a.Labels[k]))
		}
	}
	return fs
}

func field(name, value string) embedField {
	return embedField{
		Name:   cmp.Or(cut(name, maxFieldName), emptyValue),
		Value:  cmp.Or(cut(value, maxFieldValue), emptyValue),
		Inline: true,
	}
}

// subject shows a server or node as its name and ID, either when alone.
func subject(name, id string) string {
	name, id = strings.TrimSpace(name), strings.TrimSpace(id)
	switch {
	case name != "" && id != "":
		return name + " `" + id + "`"
	case id != "":
		return "`" + id + "`"
	}
	return name
}

// fit brings the embed's text within maxEmbedText: the description
// shrinks first (down to descriptionFloor), then trailing fields go.
func (e *embed) fit() {
	over := e.textLen() - maxEmbedText
	if over <= 0 {
		return
	}
	desc := runes(e.Description)
	if keep := max(desc-over, min(desc, descriptionFloor)); keep < desc {
		e.Description = cut(e.Description, keep)
	}
	for e.textLen() > maxEmbedText && len(e.Fields) > 0 {
		e.Fields = e.Fields[:len(e.Fields)-1]
	}
	if over := e.textLen() - maxEmbedText; over > 0 {
		// Unreachable with Discord's per-part limits; kept so the total
		// holds even if they change.
		e.Description = cut(e.Description, max(runes(e.Description)-over, 0))
	}
}

// textLen counts the characters Discord counts against maxEmbedText.
func (e *embed) textLen() int {
	n := runes(e.Title) + runes(e.Description) + runes(e.Footer.Text)
	for _, f := range e.Fields {
		n += runes(f.Name) + runes(f.Value)
	}
	return n
}

// cut trims s as Discord does and shortens it to at most n characters,
// ending in "…" when it had to cut. It cuts between runes, so the result
// is valid UTF-8 (invalid input bytes become U+FFFD first).
func cut(s string, n int) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	if runes(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	end, kept := 0, 0
	for i := range s {
		if kept == n-1 {
			end = i
			break
		}
		kept++
	}
	return strings.TrimRightFunc(s[:end], unicode.IsSpace) + ellipsis
}

func runes(s string) int { return utf8.RuneCountInString(s) }
