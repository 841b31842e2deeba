// Package console is rpcbridge's web console: static HTML, CSS and JavaScript modules (no build
// step, no framework) and the Swagger UI files (swaggerui/, fetched by scripts/swagger-ui.sh from
// the npm registry), all embedded in the binary so that the console works without any network
// access beyond the admin address. The console is a client of the documented admin API only:
// everything it shows or does, a script can do with the same requests.
//
// Pages (one document, switched by the URL fragment): the catalog (#catalog), the routes with
// their diagnostics (#routes), the IDL store with versions, diff, rollback and uploads (#idl),
// the API documents in Swagger UI with "try it out" through the admin address's forward to the
// embedded gateway (#api), and the live figures per route and upstream (#live). When the admin
// API answers 401, the console asks for a bearer token, keeps it in the tab's sessionStorage and
// sends it as "Authorization: Bearer" from then on.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// The embedded files: static/ is the console, swaggerui/ the Swagger UI distribution.
//
//go:embed static swaggerui
var files embed.FS

// Paths under which Register serves the files.
const (
	// AssetsPath serves static/ (the page is static/index.html at /).
	AssetsPath = "/console/"
	// SwaggerUIPath serves swaggerui/.
	SwaggerUIPath = "/swagger-ui/"
)

// contentSecurityPolicy keeps the console to its own origin: scripts, styles, fonts, images
// (and data: images, which Swagger UI's stylesheet uses) and fetches from the admin address
// only; no framing by other sites. Swagger UI sets element styles, hence 'unsafe-inline' for
// styles (never for scripts).
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Register adds the console's routes to mux: GET / (the page), AssetsPath and SwaggerUIPath.
func Register(mux *http.ServeMux) {
	static := sub("static")
	mux.Handle("GET /{$}", secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, static, "index.html")
	})))
	mux.Handle("GET "+AssetsPath, secured(filesOnly(http.StripPrefix(AssetsPath, http.FileServerFS(static)))))
	mux.Handle("GET "+SwaggerUIPath, secured(filesOnly(http.StripPrefix(SwaggerUIPath, http.FileServerFS(sub("swaggerui"))))))
}

// filesOnly answers 404 for directories instead of listing them.
func filesOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// sub returns one directory of the embedded files.
func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the directory is embedded above: this cannot happen
	}
	return f
}

// secured adds the headers every console file is served with.
func secured(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}
