package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestWrite(t *testing.T) {
	osv, out := t.TempDir(), t.TempDir()
	for name, body := range map[string]string{
		"GO-2026-0002.json": `{"id":"GO-2026-0002","modified":"2026-11-02T00:00:00Z","aliases":["CVE-1"],
			"affected":[{"package":{"name":"stdlib","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.26.9"}]}]},
			{"package":{"name":"golang.org/x/net","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`,
		"GO-2026-0001.json": `{"id":"GO-2026-0001","modified":"2026-11-01T00:00:00Z",
			"affected":[{"package":{"name":"stdlib","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.25.1"},{"introduced":"1.26.0"},{"fixed":"1.26.2"}]}]}]}`,
	} {
		if err := os.WriteFile(filepath.Join(osv, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := write(osv, out); err != nil {
		t.Fatal(err)
	}
	read := func(name string, v any) {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	var mods []moduleMeta
	read("index/modules.json", &mods)
	got := map[string][]string{}
	for _, m := range mods {
		for _, v := range m.Vulns {
			got[m.Path] = append(got[m.Path], v.ID+" fixed "+v.Fixed)
		}
	}
	want := map[string][]string{
		"golang.org/x/net": {"GO-2026-0002 fixed "},
		"stdlib":           {"GO-2026-0001 fixed 1.26.2", "GO-2026-0002 fixed 1.26.9"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("modules.json: %v, want %v", got, want)
	}
	var db dbMeta
	read("index/db.json", &db)
	if db.Modified.Format("2006-01-02") != "2026-11-02" {
		t.Errorf("db.json modified %v, want the newest entry's", db.Modified)
	}
	var e entry
	read("ID/GO-2026-0002.json", &e)
	if e.ID != "GO-2026-0002" || len(e.Affected) != 2 {
		t.Errorf("ID/GO-2026-0002.json: %+v", e)
	}
	if err := write(t.TempDir(), out); err == nil {
		t.Error("an empty OSV directory wrote a database")
	}
}
