package scheduler

import (
	"fmt"
	"time"

	"catalyst.dev/sdk/plugin"
)

// settings is a checked configuration.
type settings struct {
	// maxLateness is how old a slot may be and still fire when the plugin
	// notices it late.
	maxLateness time.Duration
	// minInterval is the shortest gap between slots a spec may have.
	minInterval time.Duration
}

var defaultSettings = settings{maxLateness: time.Minute, minInterval: time.Minute}

var schema = plugin.Schema{Fields: []plugin.Field{
	{
		Name: "max_lateness", Type: plugin.TypeString, Default: "1m",
		Description: "How late a slot may still fire, as a Go duration. When the plugin notices slots late " +
			"(the machine was suspended, the clock was stepped), only the latest of them fires, and only if it is at most this old.",
	},
	{
		Name: "min_interval", Type: plugin.TypeString, Default: "1m",
		Description: `Shortest time between two slots a schedule may have, as a Go duration; a spec that fires more often (e.g. "@every 10s") is refused.`,
	},
}}

func parseConfig(raw plugin.Config) (settings, error) {
	var c struct {
		MaxLateness string `json:"max_lateness"`
		MinInterval string `json:"min_interval"`
	}
	if err := raw.Decode(&c); err != nil {
		return settings{}, fmt.Errorf("%w: %w", err, plugin.ErrInvalidArgument)
	}
	maxLateness, err := positiveDuration("max_lateness", c.MaxLateness)
	if err != nil {
		return settings{}, err
	}
	minInterval, err := positiveDuration("min_interval", c.MinInterval)
	if err != nil {
		return settings{}, err
	}
	return settings{maxLateness: maxLateness, minInterval: minInterval}, nil
}

func positiveDuration(key, text string) (time.Duration, error) {
	d, err := time.ParseDuration(text)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("config: %s %q is not a positive duration such as \"1m\": %w", key, text, plugin.ErrInvalidArgument)
	}
	return d, nil
}
