package generation

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"stillmotion/internal/fault"
)

// TestParametersAgreeWithParser checks every model's parameters against
// what ParseRequest does: each field a form fills is described, required
// ones are required, each allowed value passes and others fail, lengths
// and bounds hold at their edges, defaults are what an absent field
// becomes, and the resolution and one-of rules are the parser's.
func TestParametersAgreeWithParser(t *testing.T) {
	// invalid reports the message for field when the body fails on it.
	invalid := func(t *testing.T, model string, changes map[string]any, field string) string {
		t.Helper()
		_, err := parseWith(t, model, changes)
		var fe *fault.Error
		if !errors.As(err, &fe) {
			return ""
		}
		for _, f := range fe.Fields {
			if f.Field == field {
				return f.Message
			}
		}
		return ""
	}
	for _, sc := range Schemas {
		t.Run(sc.Model, func(t *testing.T) {
			for _, field := range sc.Fields() {
				p, ok := sc.Parameter(field)
				if field == "model" || field == callbackField {
					if ok {
						t.Errorf("%s has a parameter: it is not a form's field", field)
					}
					continue
				}
				if !ok {
					t.Errorf("%s: no parameter", field)
					continue
				}
				// A field is sent with the one it requires, and as the
				// only one of its one-of group.
				with := func(v any) map[string]any {
					c := map[string]any{field: v}
					if p.Requires != "" {
						c[p.Requires] = "Hello there."
					}
					for _, g := range sc.OneOf() {
						for _, other := range g {
							if other != field && other != p.Requires && (slices.Contains(g, field) || slices.Contains(g, p.Requires)) {
								c[other] = nil
							}
						}
					}
					return c
				}
				// Left out, another of its one-of group is sent instead.
				without := map[string]any{field: nil}
				for _, g := range sc.OneOf() {
					if slices.Contains(g, field) {
						for _, other := range g {
							if other != field {
								without[other] = "Hello there."
							}
						}
					}
				}
				ok1 := func(v any) {
					t.Helper()
					if _, err := parseWith(t, sc.Model, with(v)); err != nil {
						t.Errorf("%s = %v refused: %v", field, v, err)
					}
				}
				bad := func(v any) {
					t.Helper()
					if invalid(t, sc.Model, with(v), field) == "" {
						t.Errorf("%s = %v accepted, or refused without naming it", field, v)
					}
				}
				if p.Required {
					if invalid(t, sc.Model, without, field) == "" {
						t.Errorf("%s is required but may be left out", field)
					}
				} else if _, err := parseWith(t, sc.Model, without); err != nil {
					t.Errorf("%s is optional but leaving it out fails: %v", field, err)
				}
				switch p.Type {
				case "boolean":
					ok1(true)
					bad("yes")
				case "integer":
					bad("many")
				}
				for _, v := range p.Enum {
					ok1(v)
				}
				if len(p.Enum) > 0 {
					if p.Type == "integer" {
						bad(7)
					} else {
						bad("none-of-these")
					}
				}
				if p.MaxLength > 0 {
					ok1(strings.Repeat("a", p.MaxLength))
					bad(strings.Repeat("a", p.MaxLength+1))
				}
				if p.MinLength > 0 {
					bad("")
				}
				if p.Minimum != nil {
					ok1(*p.Minimum)
					bad(*p.Minimum - 1)
				}
				if p.Maximum != nil {
					ok1(*p.Maximum)
					bad(*p.Maximum + 1)
				}
				if p.Requires != "" && invalid(t, sc.Model, map[string]any{field: p.Enum[0], p.Requires: nil}, field) == "" {
					t.Errorf("%s accepted without %s", field, p.Requires)
				}
				if p.Default != nil {
					r, err := parseWith(t, sc.Model, with(nil))
					if err != nil {
						t.Fatal(err)
					}
					b, _ := json.Marshal(r)
					var got map[string]any
					json.Unmarshal(b, &got)
					want := p.Default
					if n, ok := want.(int); ok {
						want = float64(n)
					}
					if v, present := got[field]; present && v != want {
						t.Errorf("%s left out becomes %v, the parameter says %v", field, v, p.Default)
					}
				}
			}
			// Fields it does not take have no parameter.
			for _, field := range familyFields {
				if _, ok := sc.Parameter(field); ok != sc.takes(field) {
					t.Errorf("%s: parameter %v, taken %v", field, ok, sc.takes(field))
				}
			}
			for _, res := range Resolutions {
				allowed, narrower := sc.DurationsAt(res)
				if !narrower {
					allowed = sc.Durations
				}
				for _, d := range sc.Durations {
					_, err := parseWith(t, sc.Model, map[string]any{resolutionKey: res, "duration": d})
					if slices.Contains(allowed, d) != (err == nil) {
						t.Errorf("%s %d s: allowed %v, parser says %v", res, d, slices.Contains(allowed, d), err)
					}
				}
			}
			for _, g := range sc.OneOf() {
				both, none := map[string]any{}, map[string]any{}
				for _, f := range g {
					both[f] = fmt.Sprintf("https://example.com/%s", f)
					none[f] = nil
				}
				if _, err := parseWith(t, sc.Model, both); err == nil {
					t.Errorf("one of %v: all of them accepted", g)
				}
				if _, err := parseWith(t, sc.Model, none); err == nil {
					t.Errorf("one of %v: none of them accepted", g)
				}
			}
		})
	}
}
