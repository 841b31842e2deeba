package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Realm is the realm of the WWW-Authenticate challenge.
const Realm = "rpcbridge"

// router is what the middleware asks which pattern serves a request: *http.ServeMux.
type router interface {
	Handler(r *http.Request) (h http.Handler, pattern string)
}

// MiddlewareOptions configure Middleware.
type MiddlewareOptions struct {
	// Keyring holds the accepted tokens; required.
	Keyring *Keyring
	// Public are the groups readable without a token (health and console always are).
	Public []Group
	// Logger receives a line per request (Debug for reads, Info for writes) and per denial
	// (Warn), with the token's name or "anonymous", never the token.
	Logger *slog.Logger
}

// identityKey is the context key of the Identity of an authenticated request.
type identityKey struct{}

// IdentityFrom returns the identity that authenticated the request of ctx, if any.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Middleware puts bearer-token authentication in front of next, the admin API's mux: each
// request is placed in a group by the pattern next serves it with (or by its path when next
// serves it with none: a 404 or 405 still needs a valid token), then answered 401 without a
// valid token (JSON error, WWW-Authenticate: Bearer realm="rpcbridge") and 403 when the token
// lacks the scope. A pattern the group table does not know is refused with 403, so a new
// endpoint is closed until it has a group.
func Middleware(next http.Handler, opts MiddlewareOptions) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	public := map[Group]bool{}
	for _, g := range opts.Public {
		public[g] = true
	}
	mux, _ := next.(router)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pattern, routed := r.URL.Path, false
		if mux != nil {
			if _, p := mux.Handler(r); p != "" {
				pattern, routed = p, true
			}
		}
		group, known := GroupOf(pattern)
		scope := ScopeFor(group, r.Method)
		if known && (alwaysPublic(group) || public[group] && scope == ScopeRead) {
			next.ServeHTTP(w, r)
			return
		}
		log := opts.Logger.With("method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		token, present := bearer(r)
		if !present {
			log.Warn("admin request denied", "token", "anonymous", "status", http.StatusUnauthorized, "reason", "no bearer token")
			challenge(w, "")
			writeError(w, http.StatusUnauthorized, "unauthenticated", "a bearer token is required: send Authorization: Bearer <token>")
			return
		}
		id, ok := opts.Keyring.Authenticate(token)
		if !ok {
			log.Warn("admin request denied", "token", "unknown", "status", http.StatusUnauthorized, "reason", "the token is not valid")
			challenge(w, `, error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthenticated", "the bearer token is not valid")
			return
		}
		log = log.With("token", id.Name)
		if !known && !routed {
			// No endpoint serves it (404, 405): a valid token may learn that.
			log.Debug("admin request", "group", "none")
			next.ServeHTTP(w, r)
			return
		}
		if !known {
			log.Error("admin endpoint has no access group, refused", "pattern", pattern, "status", http.StatusForbidden)
			writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("%s has no access group: it is closed until admin/auth places it", pattern))
			return
		}
		if !id.Has(scope) {
			log.Warn("admin request denied", "status", http.StatusForbidden, "reason", "scope "+string(scope)+" missing", "group", group)
			challenge(w, fmt.Sprintf(`, error="insufficient_scope", scope=%q`, scope))
			writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("token %q lacks scope %s (needed by %s %s, group %s)", id.Name, scope, r.Method, r.URL.Path, group))
			return
		}
		if scope == ScopeWrite {
			log.Info("admin request", "group", group)
		} else {
			log.Debug("admin request", "group", group)
		}
		if group == GroupGateway {
			r = r.Clone(r.Context())
			r.Header.Del("Authorization")
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

// bearer returns the request's bearer token; present is false without an Authorization header.
// A header of another scheme reads as the token "" (never valid).
func bearer(r *http.Request) (token string, present bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(tok), true
}

func challenge(w http.ResponseWriter, extra string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q%s`, Realm, extra))
}

// writeError answers with the admin API's error body, {"error":{"code","status","message"}}.
func writeError(w http.ResponseWriter, code int, status, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	var b struct {
		Error struct {
			Code    int    `json:"code"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"error"`
	}
	b.Error.Code, b.Error.Status, b.Error.Message = code, status, msg
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(b)
}
