package speech

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"stillmotion/internal/fault"
)

// TextField is the request field whose text this package speaks; it names the
// field in fault.Invalid errors.
const TextField = "lip_sync_tts_content"

// CleanText prepares text for a synthesizer that reads ASCII English (flite):
//
//   - whitespace, including line breaks, becomes a single space;
//   - other control and format characters (zero-width, bidi marks) are dropped;
//   - accented Latin letters become their ASCII base letters (é→e, ß→ss, Æ→AE),
//     since flite ignores bytes it does not know and would say "caf" for "café";
//   - typographic punctuation becomes ASCII: curly quotes, "…" → "...", and
//     dashes → "," so they still make a pause;
//   - "&" becomes "and", brackets become parentheses;
//   - symbols flite reads as noise (* ~ ^ < > | \ _ `), emoji and letters of
//     other scripts are dropped. $ % # @ + = / stay: flite says them as words.
//
// Numbers are left to flite. The error is a fault.Invalid when nothing
// speakable (no letter or digit) remains.
func CleanText(text string) (string, error) {
	var buf []byte
	// put appends s, dropping leading and repeated spaces and a space before
	// punctuation, so a dash mapped to ", " attaches to the word before it
	// (flite only pauses for punctuation that ends a word).
	put := func(s string) {
		for _, r := range s {
			n := len(buf)
			switch {
			case r == ' ' && (n == 0 || buf[n-1] == ' '):
				continue
			case strings.ContainsRune(",.!?;:", r) && n > 0 && buf[n-1] == ' ':
				buf = buf[:n-1]
			}
			buf = utf8.AppendRune(buf, r)
		}
	}
	speakable := false
	for _, r := range strings.ToValidUTF8(text, " ") {
		switch {
		case isASCIIAlnum(r):
			speakable = true
			put(string(r))
		case unicode.IsSpace(r):
			put(" ")
		case r < utf8.RuneSelf:
			if s, ok := asciiSymbols[r]; ok {
				put(s)
			} else if r >= ' ' && r != 0x7f {
				put(string(r))
			}
		default:
			if s, ok := translit[r]; ok {
				speakable = speakable || isASCIIAlnum(rune(s[0]))
				put(s)
			} else {
				// Emoji, symbols, other scripts, control and format characters.
				// A space keeps "hi😀there" two words; a format character
				// (zero-width joiner, soft hyphen) sits inside a word.
				if !unicode.IsControl(r) && !unicode.Is(unicode.Cf, r) {
					put(" ")
				}
			}
		}
	}
	out := strings.TrimRight(string(buf), " ")
	if !speakable {
		msg := "has nothing to speak after removing control characters and unsupported symbols; use letters or digits"
		return "", &fault.Error{Kind: fault.Invalid, Message: TextField + " " + msg,
			Fields: []fault.FieldError{{Field: TextField, Message: msg}}}
	}
	return out, nil
}

func isASCIIAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// asciiSymbols rewrites the ASCII symbols flite would misread.
var asciiSymbols = map[rune]string{
	'&': " and ",
	'[': "(", ']': ")", '{': "(", '}': ")",
	'*': " ", '~': " ", '^': " ", '<': " ", '>': " ", '|': " ", '\\': " ", '_': " ", '`': " ",
}

// translit maps non-ASCII characters to ASCII: Latin letters with diacritics
// (Latin-1 Supplement, Latin Extended-A, and the Romanian comma letters) and
// typographic punctuation.
var translit = func() map[rune]string {
	groups := []struct{ from, to string }{
		{"ÀÁÂÃÄÅĀĂĄ", "A"}, {"àáâãäåāăą", "a"}, {"Æ", "AE"}, {"æ", "ae"},
		{"ÇĆĈĊČ", "C"}, {"çćĉċč", "c"}, {"ĎĐÐ", "D"}, {"ďđð", "d"},
		{"ÈÉÊËĒĔĖĘĚ", "E"}, {"èéêëēĕėęě", "e"}, {"ĜĞĠĢ", "G"}, {"ĝğġģ", "g"},
		{"ĤĦ", "H"}, {"ĥħ", "h"}, {"ÌÍÎÏĨĪĬĮİ", "I"}, {"ìíîïĩīĭįı", "i"},
		{"Ĳ", "IJ"}, {"ĳ", "ij"}, {"Ĵ", "J"}, {"ĵ", "j"}, {"Ķ", "K"}, {"ķĸ", "k"},
		{"ĹĻĽĿŁ", "L"}, {"ĺļľŀł", "l"}, {"ÑŃŅŇŊ", "N"}, {"ñńņňŉŋ", "n"},
		{"ÒÓÔÕÖØŌŎŐ", "O"}, {"òóôõöøōŏő", "o"}, {"Œ", "OE"}, {"œ", "oe"},
		{"ŔŖŘ", "R"}, {"ŕŗř", "r"}, {"ŚŜŞŠȘ", "S"}, {"śŝşšșſ", "s"}, {"ß", "ss"},
		{"ŢŤŦȚ", "T"}, {"ţťŧț", "t"}, {"Þ", "TH"}, {"þ", "th"},
		{"ÙÚÛÜŨŪŬŮŰŲ", "U"}, {"ùúûüũūŭůűų", "u"}, {"Ŵ", "W"}, {"ŵ", "w"},
		{"ÝŸŶ", "Y"}, {"ýÿŷ", "y"}, {"ŹŻŽ", "Z"}, {"źżž", "z"},
		{"‘’‚‛′´", "'"}, {"“”„‟″«»", `"`}, {"‐‑", "-"}, {"‒–—―", ", "},
		{"…", "..."}, {"•·", ", "}, {"¡¿", " "},
	}
	m := make(map[rune]string)
	for _, g := range groups {
		for _, r := range g.from {
			m[r] = g.to
		}
	}
	return m
}()
