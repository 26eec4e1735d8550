package config_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/heraldhq/herald/config"
)

// TestDockerCompose reads docker-compose.yml, which no test can run here,
// for the mistakes that reading it carefully would catch: a port open to
// other machines, a setting herald does not know, a configuration herald
// refuses.
func TestDockerCompose(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Ports       []string          `yaml:"ports"`
			Environment map[string]string `yaml:"environment"`
			Command     []string          `yaml:"command"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for name, svc := range compose.Services {
		for _, p := range svc.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %q on every interface; publish on 127.0.0.1 only", name, p)
			}
		}
	}
	herald, ok := compose.Services["herald"]
	if !ok {
		t.Fatal("docker-compose.yml has no herald service")
	}
	known := config.Names()
	// ${VAR:-default} is what compose puts in place when VAR is unset.
	unset := regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`)
	env := map[string]string{}
	for k, v := range herald.Environment {
		if !slices.Contains(known, k) {
			t.Errorf("herald's environment sets %s, which is no setting of herald", k)
		}
		if strings.Contains(v, "${") && !unset.MatchString(v) {
			t.Errorf("herald's %s = %q requires a variable to be set before \"docker compose up\"", k, v)
		}
		env[k] = unset.ReplaceAllString(v, "$1")
	}
	cfg, err := config.Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Errorf("herald refuses the configuration of docker-compose.yml: %v", err)
	}
	if got := herald.Healthcheck.Test; !slices.Equal(got, []string{"CMD", "herald", "healthcheck"}) {
		t.Errorf("herald's health check is %q, want herald's own healthcheck on its PATH", got)
	}
}
