package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/heraldhq/herald/internal/app"
)

// WebhooksCmd groups the commands about the sending services' webhooks.
type WebhooksCmd struct {
	SESSubscriptions WebhooksSESListCmd    `cmd:"" name:"ses-subscriptions" help:"List the SNS subscription confirmations that the SES webhook received."`
	SESConfirm       WebhooksSESConfirmCmd `cmd:"" name:"ses-confirm" help:"Confirm the SES webhook's SNS subscription (herald never does by itself)."`
}

type WebhooksSESListCmd struct{}

func (c *WebhooksSESListCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		subs, err := a.SESSubscriptions().List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTOPIC\tRECEIVED\tCONFIRMED")
		for _, s := range subs {
			confirmed := "no"
			if s.ConfirmedAt != nil {
				confirmed = s.ConfirmedAt.Format(time.RFC3339) + " by " + s.ConfirmedBy
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", s.ID, s.TopicARN, s.ReceivedAt.Format(time.RFC3339), confirmed)
		}
		return tw.Flush()
	})
}

type WebhooksSESConfirmCmd struct {
	ID int64 `arg:"" help:"The confirmation's id, from herald webhooks ses-subscriptions."`
}

func (c *WebhooksSESConfirmCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		sub, err := a.SESSubscriptions().Confirm(ctx, c.ID, cliAudit())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "confirmed the subscription to %s\n", sub.TopicARN)
		return nil
	})
}
