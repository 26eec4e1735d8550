// Command herald keeps the contacts of every customer license and sends them
// the mail they must get. "herald serve" runs everything in one process; the
// other subcommands administer the same database from the shell.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/db"
)

// CLI is herald's command line.
type CLI struct {
	Config string `help:"YAML configuration file; HERALD_* environment variables override it." env:"HERALD_CONFIG" placeholder:"FILE" type:"existingfile"`

	Serve        ServeCmd        `cmd:"" help:"Run the admin API, the scheduler and the workers in one process (and the inbound SMTP server when HERALD_INBOUND_ADDR is set)."`
	API          APICmd          `cmd:"" name:"api" help:"Run only the admin API (needs HERALD_REDIS_URL)."`
	Worker       WorkerCmd       `cmd:"" help:"Run only the workers that fan out and send (needs HERALD_REDIS_URL)."`
	Scheduler    SchedulerCmd    `cmd:"" help:"Run only the scheduler and reconciler (needs HERALD_REDIS_URL)."`
	Inbound      InboundCmd      `cmd:"" help:"Run only the SMTP server that takes bounces and complaints (needs HERALD_INBOUND_ADDR and HERALD_BOUNCE_DOMAIN)."`
	Release      ReleaseCmd      `cmd:"" help:"Announce releases."`
	Invoice      InvoiceCmd      `cmd:"" help:"Import invoices and make their reminders."`
	Broadcast    BroadcastCmd    `cmd:"" help:"Send staff broadcasts."`
	Announcement AnnouncementCmd `cmd:"" help:"Pause and resume announcements."`
	Migrate      MigrateCmd      `cmd:"" help:"Bring the database schema up to date and exit."`
	Token        TokenCmd        `cmd:"" help:"Create, list and revoke admin API tokens."`
	Import       ImportCmd       `cmd:"" help:"Import licenses and contacts from a CSV file (all or nothing)."`
	Contacts     ContactsCmd     `cmd:"" help:"Administer people: lift the suppression of an address."`
	Staff        StaffCmd        `cmd:"" help:"Administer the staff of the console at /console."`
	Webhooks     WebhooksCmd     `cmd:"" help:"Confirm the SES webhook's SNS subscription."`

	Healthcheck HealthcheckCmd `cmd:"" help:"Exit 0 if the herald at HERALD_HTTP_ADDR is ready (for container health checks)."`
	Version     VersionCmd     `cmd:"" help:"Print herald's version and the revision it was built from (also herald --version)."`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var cli CLI
	parser := kong.Must(&cli,
		kong.Name("herald"),
		kong.Description("herald sends release notices, invoice reminders and broadcasts to the contacts of every customer license."),
	)
	args := os.Args[1:]
	// A --version flag of kong's would be every subcommand's, and "herald
	// release announce --version 9.4.0" names a release: only the first
	// argument asks for herald's.
	if len(args) == 1 && args[0] == "--version" {
		args = []string{"version"}
	}
	kctx, err := parser.Parse(args)
	parser.FatalIfErrorf(err)
	if kctx.Command() == "version" {
		parser.FatalIfErrorf(kctx.Run())
		return
	}

	env, err := newEnv(cli.Config, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "herald: %v\n", oneLine(err))
		os.Exit(2)
	}
	kctx.BindTo(ctx, (*context.Context)(nil))
	if err := kctx.Run(env); err != nil {
		env.logger.Debug("command failed", "err", err)
		fmt.Fprintf(os.Stderr, "herald: %v\n", oneLine(err))
		os.Exit(1)
	}
}

// Env is what every subcommand runs with: the validated configuration, a
// logger, and the process's output.
type Env struct {
	cfg    config.Config
	logger *slog.Logger
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time
}

func newEnv(configFile string, stdout, stderr io.Writer) (*Env, error) {
	// A misspelt variable leaves its setting at the default, which may be
	// what the configuration error is about: the warnings come first.
	unknown := config.UnknownVariables(os.Environ())
	cfg, err := config.Load(configFile, os.LookupEnv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		for _, w := range unknown {
			fmt.Fprintf(stderr, "herald: warning: %s\n", w)
		}
		return nil, err
	}
	level, _ := cfg.Log.SlogLevel()
	opts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler = slog.NewTextHandler(stderr, opts)
	if cfg.Log.Format == "json" {
		handler = slog.NewJSONHandler(stderr, opts)
	}
	logger := slog.New(handler)
	for _, w := range unknown {
		logger.Warn(w)
	}
	return &Env{cfg: cfg, logger: logger, stdout: stdout, stderr: stderr, now: time.Now}, nil
}

// open builds herald from the configuration: the database, created if
// missing and migrated, and the stores on it; the roles open the rest.
func (e *Env) open(ctx context.Context) (*app.App, error) {
	return app.Open(ctx, e.cfg, app.Options{Logger: e.logger, Now: e.now, Stdout: e.stdout})
}

// withApp runs fn on herald, closed when fn returns: for the subcommands
// that do one thing and exit. They work on a database herald made before
// (migrating it if this herald is newer) and never create one: run in the
// wrong directory, a command would otherwise leave an empty herald.db
// there and report that nothing matched.
func (e *Env) withApp(ctx context.Context, fn func(*app.App) error) (err error) {
	a, err := app.Open(ctx, e.cfg, app.Options{Logger: e.logger, Now: e.now, Stdout: e.stdout, Existing: true})
	if errors.Is(err, db.ErrNoSchema) {
		return fmt.Errorf("no herald database at %s; run herald migrate first", redactURL(e.cfg.Database.URL))
	}
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.Close()) }()
	return fn(a)
}

// redactURL hides the password of a URL that has one.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// oneLine joins the lines of err, such as several configuration problems,
// into the one line a failing command prints.
func oneLine(err error) string {
	var lines []string
	for l := range strings.Lines(err.Error()) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}
