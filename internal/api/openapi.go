package api

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPIDocument is the OpenAPI 3.1 description of every route, checked
// in as openapi.json; openapi_test.go proves it agrees with the handlers.
//
//go:embed openapi.json
var openAPIDocument []byte

// serveOpenAPI serves GET /openapi.json, without authentication.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	h.Set("Cache-Control", "public, max-age=300")
	w.Write(openAPIDocument)
}
