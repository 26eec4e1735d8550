package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/inbound"
)

// sesSubscriptionView is an SNS subscription confirmation of the SES
// webhook's topic as the API shows it.
type sesSubscriptionView struct {
	ID           int64      `json:"id"`
	TopicARN     string     `json:"topic_arn"`
	SubscribeURL string     `json:"subscribe_url"`
	ReceivedAt   time.Time  `json:"received_at"`
	ConfirmedAt  *time.Time `json:"confirmed_at"`
	ConfirmedBy  string     `json:"confirmed_by"`
}

func newSESSubscriptionView(s inbound.Subscription) sesSubscriptionView {
	return sesSubscriptionView{ID: s.ID, TopicARN: s.TopicARN, SubscribeURL: s.SubscribeURL, ReceivedAt: s.ReceivedAt,
		ConfirmedAt: s.ConfirmedAt, ConfirmedBy: s.ConfirmedBy}
}

// subscriptions are the SES webhook's subscription confirmations; without
// webhooks (a process that serves none) there are none to act on.
func (s *Server) subscriptions() (*inbound.Subscriptions, error) {
	if s.webhooks == nil {
		return nil, fault.NotFound("this process serves no webhooks")
	}
	return s.webhooks.Subscriptions, nil
}

// listSESSubscriptions lists the subscription confirmations that SNS sent
// for HERALD_SES_TOPIC_ARN, newest first (at most 50 are kept).
func (s *Server) listSESSubscriptions(w http.ResponseWriter, r *http.Request) error {
	subs, err := s.subscriptions()
	if err != nil {
		return err
	}
	list, err := subs.List(r.Context())
	if err != nil {
		return err
	}
	out := listView[sesSubscriptionView]{Items: make([]sesSubscriptionView, len(list))}
	for i, sub := range list {
		out.Items[i] = newSESSubscriptionView(sub)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// confirmSESSubscription confirms one: herald fetches its SubscribeURL.
func (s *Server) confirmSESSubscription(w http.ResponseWriter, r *http.Request) error {
	subs, err := s.subscriptions()
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return fault.NotFound("SNS subscription confirmation %q does not exist", fault.Shorten(r.PathValue("id"), fault.MaxEcho))
	}
	by := changedBy(r.Context())
	sub, err := subs.Confirm(r.Context(), id, by)
	if err != nil {
		return err
	}
	s.logger.Info("SES subscription confirmed", "subscription", id, "by", by)
	writeJSON(w, http.StatusOK, newSESSubscriptionView(sub))
	return nil
}
