package inbound

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"
)

// Fetcher gets what an SNS message points to: its signing certificate,
// and the SubscribeURL that confirms a subscription. Only URLs that
// snsURL accepts reach it. Tests give the webhooks one of their own, in
// code: no setting points herald elsewhere.
type Fetcher interface {
	// Fetch returns the body of a GET of rawURL, at most max bytes (an
	// error past that), or an error for any status but 200.
	Fetch(ctx context.Context, rawURL string, max int64) ([]byte, error)
}

// fetchTimeout bounds one fetch, redirects refused.
const fetchTimeout = 10 * time.Second

// maxCertBody bounds a signing certificate (a PEM of about 2 KB).
const maxCertBody = 64 << 10

// HTTPFetcher fetches over HTTPS, within fetchTimeout, and follows no
// redirect: a redirect could leave the host that was checked.
type HTTPFetcher struct{ client *http.Client }

// NewHTTPFetcher returns the fetcher herald uses.
func NewHTTPFetcher() *HTTPFetcher {
	return &HTTPFetcher{client: &http.Client{
		Timeout:       fetchTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Fetch implements Fetcher.
func (f *HTTPFetcher) Fetch(ctx context.Context, rawURL string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", rawURL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("GET %s: the answer is larger than %d bytes", rawURL, max)
	}
	return body, nil
}

// snsHost is the host of every URL an SNS message may point herald to:
// sns.<region>.amazonaws.com (.com.cn in China).
var snsHost = regexp.MustCompile(`^sns\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com(\.cn)?$`)

// snsURL checks a SigningCertURL or SubscribeURL: https, on an SNS host,
// with no user information and no other port. Nothing else is fetched.
func snsURL(field, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s is not a URL", field)
	case u.Scheme != "https":
		return nil, fmt.Errorf("%s is not https", field)
	case u.User != nil:
		return nil, fmt.Errorf("%s carries user information", field)
	case u.Port() != "" || !snsHost.MatchString(u.Host):
		return nil, fmt.Errorf("%s is not on an sns.<region>.amazonaws.com host", field)
	}
	return u, nil
}

// certCache keeps the SNS signing certificates fetched, by URL: SNS signs
// every message with the same one for months.
type certCache struct {
	fetcher Fetcher
	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
}

// maxCachedCerts bounds the cache; past it, it starts over.
const maxCachedCerts = 16

func newCertCache(f Fetcher) *certCache {
	return &certCache{fetcher: f, keys: map[string]*rsa.PublicKey{}}
}

// key returns the public key of the certificate at certURL, which snsURL
// accepted.
func (c *certCache) key(ctx context.Context, certURL string) (*rsa.PublicKey, error) {
	c.mu.Lock()
	key, ok := c.keys[certURL]
	c.mu.Unlock()
	if ok {
		return key, nil
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	body, err := c.fetcher.Fetch(ctx, certURL, maxCertBody)
	if err != nil {
		return nil, fmt.Errorf("fetch the signing certificate: %w", err)
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("the signing certificate is not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the signing certificate does not parse: %w", err)
	}
	key, ok = cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("the signing certificate's key is not RSA")
	}
	c.mu.Lock()
	if len(c.keys) >= maxCachedCerts {
		clear(c.keys)
	}
	c.keys[certURL] = key
	c.mu.Unlock()
	return key, nil
}
