package api

import (
	"fmt"
	"net/http"
	"strconv"

	"stillmotion/internal/auth"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
)

// listPath lists a key's generations, newest first. The poll route itself
// keeps requiring generation_id, as the hosted API does.
const listPath = universalPath + "/list"

// generationList is a page of a key's generations, each as a poll shows it.
type generationList struct {
	Data    []*generationBody `json:"data"`
	HasMore bool              `json:"has_more"`
	// NextCursor is the after= value of the next page; null on the last.
	NextCursor *string `json:"next_cursor"`
}

// listGenerations serves GET /v2/video/generations/list?after=ID&limit=N.
func (s *Server) listGenerations(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	q := r.URL.Query()
	lq := generation.ListQuery{After: q.Get("after"), Limit: 20, Desc: true, WithoutRequest: true}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			s.fail(w, r, &fault.Error{Kind: fault.Invalid, Message: "Query validation error!",
				Fields: []fault.FieldError{{Field: "limit", Message: fmt.Sprintf("Invalid value %q. Expected an integer from 1 to 100", v)}}})
			return
		}
		lq.Limit = n
	}
	gs, more, err := s.page(r, k.ID, lq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := generationList{Data: []*generationBody{}, HasMore: more}
	if more {
		next := gs[len(gs)-1].ID
		out.NextCursor = &next
	}
	for _, g := range gs {
		b, err := s.body(r, g, true)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out.Data = append(out.Data, b)
	}
	writeJSON(w, http.StatusOK, out)
}

// page lists a page of keyID's generations as lq asks, and reports
// whether more follow: it asks the store for one more than the page.
func (s *Server) page(r *http.Request, keyID string, lq generation.ListQuery) ([]*generation.Generation, bool, error) {
	want := lq.Limit
	lq.Limit++
	gs, err := s.Service.List(r.Context(), keyID, lq)
	if err != nil || len(gs) <= want {
		return gs, false, err
	}
	return gs[:want], true, nil
}
