package viewer

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/etlscope/etlscope/filters"
)

//go:embed assets
var assets embed.FS

// csp allows nothing but this server: no inline script or style, no
// frames, no other origin.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// NewToken returns a random access token.
func NewToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Handler serves the page and the API of t. Every request must carry
// token, as the query parameter `token` or the header X-Etlscope-Token.
func Handler(t *Trace, token string) http.Handler {
	page := template.Must(template.ParseFS(assets, "assets/index.html"))
	static, _ := fs.Sub(assets, "assets")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, map[string]string{"Token": token, "File": t.Summary().File}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /api/summary", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, t.Summary())
	})
	mux.HandleFunc("GET /api/verdicts", func(w http.ResponseWriter, r *http.Request) {
		d, err := t.Diagnosis(r.Context())
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("GET /api/events", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var flt *filters.Filter
		if expr := q.Get("filter"); strings.TrimSpace(expr) != "" {
			f, fe := compileFilter(expr)
			if fe != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"filter_error": fe})
				return
			}
			flt = f
		}
		start, _ := strconv.Atoi(q.Get("start"))
		limit, err := strconv.Atoi(q.Get("limit"))
		if err != nil {
			limit = 200
		}
		p, err := t.Events(r.Context(), flt, start, limit)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	})
	mux.HandleFunc("GET /api/event/{index}", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.PathValue("index"))
		if err != nil || i < 0 {
			writeError(w, http.StatusBadRequest, errors.New("bad event index"))
			return
		}
		d, err := t.Event(r.Context(), i)
		if errors.Is(err, errNoEvent) {
			writeError(w, http.StatusNotFound, err)
			return
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("GET /api/locate", func(w http.ResponseWriter, r *http.Request) {
		at, err := time.Parse(time.RFC3339Nano, r.URL.Query().Get("time"))
		if err != nil {
			writeError(w, http.StatusBadRequest, errors.New("time: want RFC 3339, e.g. 2024-03-12T09:30:00.0130000Z"))
			return
		}
		i, err := t.Locate(r.Context(), at.UnixNano())
		if errors.Is(err, errNoEvent) {
			writeError(w, http.StatusNotFound, err)
			return
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"index": i})
	})
	mux.HandleFunc("GET /api/conversations", func(w http.ResponseWriter, r *http.Request) {
		cs, dropped, err := t.Conversations(r.Context())
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		q := r.URL.Query()
		start, _ := strconv.Atoi(q.Get("start"))
		limit, err := strconv.Atoi(q.Get("limit"))
		if err != nil || limit <= 0 || limit > maxPage {
			limit = 500
		}
		start = min(max(start, 0), len(cs))
		page := cs[start:min(start+limit, len(cs))]
		if page == nil {
			page = []conversation{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"conversations": page, "start": start, "total": len(cs), "dropped": dropped})
	})
	return guard(mux, token)
}

// guard checks the token and the method and sets the security headers.
func guard(next http.Handler, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "read-only", http.StatusMethodNotAllowed)
			return
		}
		if !loopbackHost(r.Host) {
			// A page elsewhere that resolves its own name to 127.0.0.1
			// (DNS rebinding) sends its own Host.
			http.Error(w, "forbidden host", http.StatusForbidden)
			return
		}
		got := r.URL.Query().Get("token")
		if got == "" {
			got = r.Header.Get("X-Etlscope-Token")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			http.Error(w, "missing or wrong access token: use the URL etlscope view printed", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether the Host header names a loopback address
// or localhost.
func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
