package inbound

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// Auditor records a change staff made (contacts.Store).
type Auditor interface {
	Audit(ctx context.Context, e contacts.AuditEntry) error
}

// Subscription is an SNS subscription confirmation of the SES topic, kept
// until staff confirm it.
type Subscription struct {
	ID           int64      `db:"id"`
	MessageID    string     `db:"message_id"`
	TopicARN     string     `db:"topic_arn"`
	SubscribeURL string     `db:"subscribe_url"`
	ReceivedAt   time.Time  `db:"received_at"`
	ConfirmedAt  *time.Time `db:"confirmed_at"`
	ConfirmedBy  string     `db:"confirmed_by"`
}

// Subscriptions are the SES topic's subscription confirmations. herald
// never follows a SubscribeURL by itself: a person confirms, and the
// confirmation is audited.
type Subscriptions struct {
	db      *db.DB
	fetcher Fetcher
	audit   Auditor
	now     func() time.Time
	topic   string
}

// NewSubscriptions returns the subscription confirmations of topic
// (HERALD_SES_TOPIC_ARN) kept in d, confirmed through fetcher (default:
// HTTPFetcher) and audited by audit.
func NewSubscriptions(d *db.DB, topic string, fetcher Fetcher, audit Auditor, now func() time.Time) *Subscriptions {
	if fetcher == nil {
		fetcher = NewHTTPFetcher()
	}
	if now == nil {
		now = time.Now
	}
	return &Subscriptions{db: d, fetcher: fetcher, audit: audit, now: now, topic: topic}
}

// maxSubscriptions bounds the confirmations kept: SNS sends one per
// subscription request (and resends it for three days), so a handful is
// plenty; the oldest unconfirmed go first.
const maxSubscriptions = 50

// maxConfirmBody bounds SNS's answer to a confirmation (a short XML).
const maxConfirmBody = 64 << 10

// add keeps a verified SubscriptionConfirmation; the same message twice
// is kept once.
func (s *Subscriptions) add(ctx context.Context, m snsMessage) error {
	if _, err := snsURL("SubscribeURL", m.SubscribeURL); err != nil {
		return malformed("%v", err)
	}
	if cleanID(m.MessageID) == "" {
		return malformed("MessageId is missing")
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	return s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		_, err := db.Exec(ctx, tx, `INSERT INTO ses_subscriptions (message_id, topic_arn, subscribe_url, received_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (message_id) DO NOTHING`, m.MessageID, m.TopicArn, m.SubscribeURL, now)
		if err != nil {
			return fmt.Errorf("keep the SNS subscription confirmation: %w", err)
		}
		_, err = db.Exec(ctx, tx, `DELETE FROM ses_subscriptions WHERE confirmed_at IS NULL AND id NOT IN
			(SELECT id FROM ses_subscriptions ORDER BY id DESC LIMIT ?)`, maxSubscriptions)
		if err != nil {
			return fmt.Errorf("prune SNS subscription confirmations: %w", err)
		}
		return nil
	})
}

// List returns the subscription confirmations, newest first.
func (s *Subscriptions) List(ctx context.Context) ([]Subscription, error) {
	var subs []Subscription
	if err := db.Select(ctx, s.db.Read, &subs, `SELECT id, message_id, topic_arn, subscribe_url, received_at, confirmed_at, confirmed_by
		FROM ses_subscriptions ORDER BY id DESC`); err != nil {
		return nil, fmt.Errorf("list SNS subscription confirmations: %w", err)
	}
	for i := range subs {
		subs[i].ReceivedAt = subs[i].ReceivedAt.UTC()
		if t := subs[i].ConfirmedAt; t != nil {
			*t = t.UTC()
		}
	}
	return subs, nil
}

// Confirm confirms subscription id by a GET of its SubscribeURL, checked
// again, on the topic still configured, and audits who did.
func (s *Subscriptions) Confirm(ctx context.Context, id int64, by contacts.Actor) (Subscription, error) {
	var sub Subscription
	err := db.Get(ctx, s.db, &sub, `SELECT id, message_id, topic_arn, subscribe_url, received_at, confirmed_at, confirmed_by
		FROM ses_subscriptions WHERE id = ?`, id)
	if db.IsNoRows(err) {
		return Subscription{}, fault.NotFound("no SNS subscription confirmation %d", id)
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("read SNS subscription confirmation %d: %w", id, err)
	}
	if s.topic == "" || sub.TopicARN != s.topic {
		return Subscription{}, fault.Conflict("subscription %d is for another topic than HERALD_SES_TOPIC_ARN", id)
	}
	if _, err := snsURL("SubscribeURL", sub.SubscribeURL); err != nil {
		return Subscription{}, fault.Conflict("subscription %d: %v", id, err)
	}
	fctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	if _, err := s.fetcher.Fetch(fctx, sub.SubscribeURL, maxConfirmBody); err != nil {
		return Subscription{}, fmt.Errorf("confirm SNS subscription %d: %w", id, err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if _, err := db.Exec(ctx, s.db, `UPDATE ses_subscriptions SET confirmed_at = ?, confirmed_by = ? WHERE id = ?`, now, by.Who(), id); err != nil {
		return Subscription{}, fmt.Errorf("note SNS subscription %d confirmed: %w", id, err)
	}
	sub.ConfirmedAt, sub.ConfirmedBy = &now, by.Who()
	if s.audit != nil {
		detail := fmt.Sprintf("subscription %d to %s", id, sub.TopicARN)
		if err := s.audit.Audit(ctx, contacts.AuditEntry{Action: contacts.SESSubscriptionConfirmed, Detail: detail, By: by}); err != nil {
			return sub, fmt.Errorf("audit the confirmation of SNS subscription %d: %w", id, err)
		}
	}
	return sub, nil
}
