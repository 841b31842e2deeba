package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"

	"google.golang.org/grpc"

	"github.com/rpcbridge/rpcbridge/admin/auth"
	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/dataplane/xdsclient"
)

// embeddedGatewayToken is the name, in logs, of the xDS token serve makes for its own embedded
// gateway when xds.auth is on.
const embeddedGatewayToken = "embedded-gateway"

// serveAuth is what serve's admin API and xDS server check, read at start.
type serveAuth struct {
	admin *auth.Keyring // nil: the admin API is open (loopback only, config.validate checks)
	cfg   auth.Config
	// xdsOptions make the xDS server check tokens; nil when xds.auth is off.
	xdsOptions []grpc.ServerOption
	// gatewayCreds carry the embedded gateway's own xDS token.
	gatewayCreds xdsclient.Credentials
	log          *slog.Logger
}

// openAuth reads the tokens of admin.auth and xds.auth. With xds.auth on, the embedded gateway
// gets a random token of its own that only this process knows: it connects to the xDS port
// over the host's network stack like any client, so it must pass the same check.
func openAuth(cfg *config.Config, log *slog.Logger) (*serveAuth, error) {
	a := &serveAuth{cfg: cfg.Admin.Auth, log: log.With("component", "auth")}
	if cfg.Admin.Auth.On() {
		k, err := auth.NewKeyring(cfg.Admin.Auth.Tokens, auth.KeyringOptions{Logger: a.log})
		if err != nil {
			return nil, fmt.Errorf("admin.auth: %w", err)
		}
		a.admin = k
	}
	if cfg.XDS.Auth.On() {
		k, err := auth.NewXDSKeyring(cfg.XDS.Auth.Tokens, auth.KeyringOptions{Logger: a.log})
		if err != nil {
			return nil, fmt.Errorf("xds.auth: %w", err)
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("xds.auth: the embedded gateway's token: %w", err)
		}
		own := hex.EncodeToString(b)
		k.AddStatic(embeddedGatewayToken, own)
		a.xdsOptions = auth.ServerOptions(k, a.log)
		a.gatewayCreds.PerRPC = auth.NewOwnBearer(own)
	}
	return a, nil
}

// adminHandler puts the admin API behind the tokens, when there are any.
func (a *serveAuth) adminHandler(h http.Handler) http.Handler {
	if a.admin == nil {
		return h
	}
	return auth.Middleware(h, auth.MiddlewareOptions{Keyring: a.admin, Public: a.cfg.Public, Logger: a.log})
}
