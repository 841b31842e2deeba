package local

import (
	"errors"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// DefaultPoll is how often a watch lists the directory again behind fsnotify.
const DefaultPoll = 5 * time.Second

// Config configures a local store.
type Config struct {
	// Dir is the store's directory, created when missing. The embedded default is a
	// directory inside rpcbridge's dataDir.
	Dir string `yaml:"dir" json:"dir"`
	// Poll is how often a watch lists the directory again, a safety net behind fsnotify (which
	// can drop events under load, and sees nothing on network file systems). Default 5s.
	Poll yamltime.Duration `yaml:"poll" json:"poll"`
}

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	if c.Dir == "" {
		return errors.New("local store: dir is empty")
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.Poll = yamltime.Duration(c.Poll.Or(DefaultPoll))
	return c
}
