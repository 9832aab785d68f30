// Package studio serves the web studio: the page at / where a person makes
// videos with the API without writing code. Its files are built from web/
// (npm --prefix web run build) into dist/ and embedded, so the binary
// serves them offline and go build never needs Node.
package studio

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// Handler serves the studio's page at / and its files under /assets/, with
// a Content-Security-Policy that lets the page load only its own files and
// talk only to its own origin. mediaOrigins are the origins (scheme://host)
// that videos and thumbnails are downloaded from when they are not this
// server's (the public URL of an S3 bucket).
func Handler(mediaOrigins ...string) http.Handler {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees dist
	}
	media := strings.Join(append([]string{"'self'", "blob:"}, mediaOrigins...), " ")
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src " + media +
		"; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if r.URL.Path != "/" && strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		if strings.HasPrefix(r.URL.Path, "/assets/") {
			// Their names carry a hash of their content.
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		fileServer.ServeHTTP(w, r)
	})
}
