package discord

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"catalyst.dev/sdk/plugin"
)

// config is the plugin's config block as the host sends it.
type config struct {
	WebhookURL       string `json:"webhook_url"`
	Username         string `json:"username"`
	AvatarURL        string `json:"avatar_url"`
	Mention          string `json:"mention"`
	Timeout          string `json:"timeout"`
	AllowInsecureURL bool   `json:"allow_insecure_url"`
}

// settings is a checked configuration, ready for Deliver.
type settings struct {
	// endpoint is the URL messages are posted to. It holds the webhook's
	// token: never log it or put it in an error; use redacted.
	endpoint string
	redacted string
	timeout  time.Duration
	style    style
}

// style is what shapes a message besides the alert itself.
type style struct {
	username  string
	avatarURL string
	// mention prefixes the content of critical alerts; pings are the
	// mentions allowed with it.
	mention string
	pings   allowedMentions
}

// Discord's rules for what a webhook message may override.
const (
	maxUsername = 80
	// maxMentionIDs is how many user (or role) IDs allowed_mentions takes.
	maxMentionIDs = 100
)

func parseConfig(raw plugin.Config) (settings, error) {
	var c config
	if err := raw.Decode(&c); err != nil {
		return settings{}, fmt.Errorf("%w: %w", err, plugin.ErrInvalidArgument)
	}
	endpoint, redacted, err := webhookEndpoint(c.WebhookURL, c.AllowInsecureURL)
	if err != nil {
		return settings{}, err
	}
	timeout, err := time.ParseDuration(c.Timeout)
	if err != nil || timeout <= 0 {
		return settings{}, fmt.Errorf("config: timeout %q is not a positive duration such as \"10s\": %w", c.Timeout, plugin.ErrInvalidArgument)
	}
	if err := checkUsername(c.Username); err != nil {
		return settings{}, err
	}
	if c.AvatarURL != "" && !isWebURL(c.AvatarURL) {
		return settings{}, fmt.Errorf("config: avatar_url %q is not an absolute http(s) URL: %w", c.AvatarURL, plugin.ErrInvalidArgument)
	}
	mention, pings, err := parseMention(c.Mention)
	if err != nil {
		return settings{}, err
	}
	return settings{
		endpoint: endpoint,
		redacted: redacted,
		timeout:  timeout,
		style:    style{username: c.Username, avatarURL: c.AvatarURL, mention: mention, pings: pings},
	}, nil
}

// webhookEndpoint checks the configured webhook URL and returns the URL to
// post to and a form of it safe to show. Errors never repeat the URL: its
// path holds the webhook's token.
func webhookEndpoint(raw string, allowInsecure bool) (endpoint, redacted string, err error) {
	u, perr := url.Parse(strings.TrimSpace(raw))
	if perr != nil || u.Host == "" || u.Opaque != "" {
		return "", "", fmt.Errorf("config: webhook_url is not an absolute URL such as https://discord.com/api/webhooks/<id>/<token>: %w", plugin.ErrInvalidArgument)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowInsecure:
	case u.Scheme == "http":
		return "", "", fmt.Errorf("config: webhook_url must use https (http is accepted only with allow_insecure_url = true): %w", plugin.ErrInvalidArgument)
	default:
		return "", "", fmt.Errorf("config: webhook_url has scheme %q, want https: %w", u.Scheme, plugin.ErrInvalidArgument)
	}
	// Pin the API version: unversioned webhook URLs (as Discord's UI hands
	// them out) get an old API whose 429 bodies count retry_after in
	// milliseconds, not the seconds we read.
	if rest, ok := strings.CutPrefix(u.Path, "/api/webhooks/"); ok {
		u.Path, u.RawPath = "/api/v10/webhooks/"+rest, ""
	}
	u.Fragment, u.RawFragment = "", ""
	q := u.Query()
	// With wait=true Discord answers once the message exists (200 with the
	// message) instead of 204 before it is created, so a success is real.
	q.Set("wait", "true")
	u.RawQuery = q.Encode()
	return u.String(), redact(u), nil
}

// redact returns u without its secrets: the token that follows the webhook
// ID, or the whole path when it is not a webhook path; no query, no user.
func redact(u *url.URL) string {
	shown := url.URL{Scheme: u.Scheme, Host: u.Host}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i, seg := range segs {
		if seg == "webhooks" && i+1 < len(segs) {
			return shown.String() + "/" + strings.Join(segs[:i+2], "/") + "/***"
		}
	}
	return shown.String() + "/***"
}

func checkUsername(name string) error {
	if name == "" {
		return nil
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(name)); n == 0 || n > maxUsername {
		return fmt.Errorf("config: username must be 1 to %d characters, has %d: %w", maxUsername, n, plugin.ErrInvalidArgument)
	}
	// Discord refuses these in webhook names, so every message would fail.
	lower := strings.ToLower(name)
	for _, banned := range []string{"discord", "clyde"} {
		if strings.Contains(lower, banned) {
			return fmt.Errorf("config: username %q: Discord does not allow %q in webhook names: %w", name, banned, plugin.ErrInvalidArgument)
		}
	}
	return nil
}

func isWebURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// allowedMentions is Discord's allowed_mentions object. Parse must encode
// as [] rather than be left out: left out, every mention in the message
// pings.
type allowedMentions struct {
	Parse []string `json:"parse"`
	Roles []string `json:"roles,omitempty"`
	Users []string `json:"users,omitempty"`
}

// noPings allows no mention at all.
func noPings() allowedMentions { return allowedMentions{Parse: []string{}} }

var (
	userMention = regexp.MustCompile(`^<@!?([0-9]{1,20})>$`)
	roleMention = regexp.MustCompile(`^<@&([0-9]{1,20})>$`)
)

// parseMention checks the mention config key, one or more mentions
// separated by spaces, and returns it normalised with the mentions it may
// ping.
func parseMention(raw string) (string, allowedMentions, error) {
	pings := noPings()
	tokens := strings.Fields(raw)
	for _, tok := range tokens {
		if m := userMention.FindStringSubmatch(tok); m != nil {
			pings.Users = appendNew(pings.Users, m[1])
			continue
		}
		if m := roleMention.FindStringSubmatch(tok); m != nil {
			pings.Roles = appendNew(pings.Roles, m[1])
			continue
		}
		if tok == "@here" || tok == "@everyone" {
			// Discord's "everyone" covers both @everyone and @here.
			pings.Parse = appendNew(pings.Parse, "everyone")
			continue
		}
		return "", allowedMentions{}, fmt.Errorf("config: mention: %q is not <@user-id>, <@&role-id>, @here or @everyone: %w", tok, plugin.ErrInvalidArgument)
	}
	if len(pings.Users) > maxMentionIDs || len(pings.Roles) > maxMentionIDs {
		return "", allowedMentions{}, fmt.Errorf("config: mention: Discord allows at most %d users and %d roles: %w", maxMentionIDs, maxMentionIDs, plugin.ErrInvalidArgument)
	}
	mention := strings.Join(tokens, " ")
	if utf8.RuneCountInString(mention) > maxContent/2 {
		return "", allowedMentions{}, fmt.Errorf("config: mention is longer than %d characters: %w", maxContent/2, plugin.ErrInvalidArgument)
	}
	return mention, pings, nil
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
