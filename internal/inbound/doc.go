// Package inbound is herald's intake of what comes back after a message
// leaves: an SMTP server for the bounce domain that reads delivery status
// notifications, feedback-loop complaints and bounces written for people,
// and the sending services' webhooks (Postmark, SendGrid, Mailgun, Amazon
// SES through SNS). Each report becomes a bounce.Event on a verified
// delivery, recorded by the sink (the ledger); mail it cannot read or
// verify is kept for staff to look at, and a webhook request it cannot
// verify changes nothing.
package inbound
