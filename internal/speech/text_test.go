package speech

import (
	"testing"

	"stillmotion/internal/fault"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Hello, world!", "Hello, world!"},
		{"spaces", "  Hello\t\tthere \n\n friend  ", "Hello there friend"},
		{"controls", "Hel\x00lo\x07 wor\x1bld\x7f", "Hello world"},
		{"crlf", "one\r\ntwo", "one two"},
		{"zero width", "zero\u200bwidth\ufeff", "zerowidth"},
		{"accents", "Café naïve Zürich Ærø Straße Łódź", "Cafe naive Zurich AEro Strasse Lodz"},
		{"romanian", "Ștefan țară", "Stefan tara"},
		{"emoji", "Hi😀there 👍🏽 ok", "Hi there ok"},
		{"smart quotes", "“Don’t,” she said.", `"Don't," she said.`},
		{"dashes", "wait — what – now", "wait, what, now"},
		{"ellipsis", "and so… on", "and so... on"},
		{"ampersand", "you & me", "you and me"},
		{"noise symbols", "*bold* <b>x</b> a|b c\\d e_f ~g^", "bold b x /b a b c d e f g"},
		{"kept symbols", "$5, 100% #1 a@b.c 1+1=2 and/or", "$5, 100% #1 a@b.c 1+1=2 and/or"},
		{"brackets", "[note] {x}", "(note) (x)"},
		{"space before punct", "hello , world !", "hello, world!"},
		{"leading dash", "-help me", "-help me"},
		{"other scripts", "Привет hello 你好", "hello"},
		{"invalid utf8", "ab\xffcd", "ab cd"},
		{"digits only", "42", "42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanText(tt.in)
			if err != nil {
				t.Fatalf("CleanText(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanTextInvalid(t *testing.T) {
	for _, in := range []string{"", "   ", "\x00\x01\x02", "\n\t", "😀😀", "...!?", "—", "Привет", "\u200b"} {
		t.Run(in, func(t *testing.T) {
			_, err := CleanText(in)
			if fault.KindOf(err) != fault.Invalid {
				t.Fatalf("CleanText(%q) error = %v, want kind Invalid", in, err)
			}
			var fe *fault.Error
			if e, ok := err.(*fault.Error); ok {
				fe = e
			}
			if fe == nil || len(fe.Fields) != 1 || fe.Fields[0].Field != TextField {
				t.Errorf("CleanText(%q) error %#v, want one field error for %s", in, err, TextField)
			}
		})
	}
}
