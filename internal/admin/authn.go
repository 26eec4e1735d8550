package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
)

// authenticate lets a request through only with a stored bearer token.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			s.writeError(w, r, errUnauthorized)
			return
		}
		tok, err := s.tokens.Verify(r.Context(), strings.TrimSpace(secret))
		if errors.Is(err, fault.ErrNotFound) {
			s.writeError(w, r, errUnauthorized)
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.logger.Debug("authenticated", "token", tok.Name, "method", r.Method, "path", r.URL.Path)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok.Name)))
	})
}

// tokenKey is the context key of the authenticated token's name.
type tokenKey struct{}

// changedBy is who makes an authenticated request that changes contacts,
// for the audit log: the API, and the name of the request's token.
func changedBy(ctx context.Context) contacts.Actor {
	name, _ := ctx.Value(tokenKey{}).(string)
	return contacts.Actor{Via: contacts.ViaAPI, Name: name}
}

// importedBy is who imports a contacts CSV through the API: the import,
// and the request's token as actor names it.
func importedBy(ctx context.Context) contacts.Actor {
	return contacts.Actor{Via: contacts.ViaCSV, Name: actor(ctx)}
}

// actor names who makes an authenticated request, for the records that
// keep who changed what: "token:" and the name of its token.
func actor(ctx context.Context) string {
	name, _ := ctx.Value(tokenKey{}).(string)
	return "token:" + name
}
