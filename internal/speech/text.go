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

// CleanText turns what people type into plain English words that every
// engine reads the same way, so that each voice says exactly the same words
// and flite's timeline of them fits RHVoice's audio. It
//
//   - drops control and format characters (zero-width, bidi marks), emoji,
//     other symbols and letters of other scripts, and makes all whitespace a
//     single space;
//   - spells accented and other non-ASCII Latin letters in ASCII (café →
//     cafe, Straße → Strasse, Ø → O, Æ → AE), and full-width and non-ASCII
//     digits as ASCII digits;
//   - reads numbers ("1,250" → "one thousand two hundred fifty", "3.5",
//     "-4", "007"), ordinals ("21st"), years ("1952"), decades ("1990s"),
//     percentages, fractions ("3/4"), ranges ("10-20"), phone numbers,
//     amounts of money ("$5.99" → "five dollars and ninety-nine cents", "€20",
//     "£3.50", "$2.5M"), dates ("2026-11-24", "11/24/2026", "Nov 24",
//     "24 Nov 2026"), times ("10:30", "3pm", "7:05 a.m."), units after a
//     number ("5 km", "20°C", "16GB");
//   - expands abbreviations ("Dr." → "Doctor", or "Drive" after a name;
//     "St."; "Mr."; "e.g."; "etc."; "vs."; "No. 5") and reads initialisms
//     letter by letter ("U.S." → "U S");
//   - reads web addresses and e-mail addresses as people say them
//     ("www.example.com/shop" → "W W W dot example dot com slash shop",
//     without the scheme or query) and symbols that stand for words
//     (& + = @ # % °);
//   - keeps the punctuation that makes pauses (. , ! ? ; :), turns dashes
//     and brackets into commas, and drops quotes and every other symbol.
//
// The result holds only ASCII letters, spaces, apostrophes and hyphens
// within words, and that punctuation. The error is a fault.Invalid when
// nothing speakable (no letter or digit) remains.
func CleanText(text string) (string, error) {
	s := prepare(text)
	s = speakAddresses(s)
	out := finish(expand(tokenize(s)))
	if strings.IndexFunc(out, isASCIILetter) < 0 {
		msg := "has nothing to speak after removing control characters and unsupported symbols; use letters or digits"
		return "", &fault.Error{Kind: fault.Invalid, Message: TextField + " " + msg,
			Fields: []fault.FieldError{{Field: TextField, Message: msg}}}
	}
	return out, nil
}

func isASCIIAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

func isASCIILetter(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
}

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

// kept are the non-ASCII symbols prepare keeps for expand to read.
const kept = "€£¥₹₩₽¢°²³"

// prepare maps text rune by rune to ASCII plus the symbols in kept:
// whitespace becomes a space, control and format characters go, letters and
// punctuation are transliterated (see translit), other digits become ASCII
// digits, and everything else (emoji, symbols, other scripts) becomes a
// space, so "hi😀there" stays two words.
func prepare(text string) string {
	rs := []rune(strings.ToValidUTF8(text, " "))
	var b strings.Builder
	b.Grow(len(text))
	for i, r := range rs {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f':
			b.WriteByte(' ')
		case r < ' ' || r == 0x7f:
			// Other ASCII control characters.
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		case unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r):
			// Zero-width joiners, soft hyphens, bidi marks sit inside words.
		case strings.ContainsRune(kept, r):
			b.WriteRune(r)
		case r >= 0xff01 && r <= 0xff5e: // full-width ASCII
			b.WriteRune(r - 0xfee0)
		case unicode.Is(unicode.Nd, r):
			b.WriteByte(byte('0' + digitValue(r)))
		case strings.ContainsRune("‒–—―−", r):
			// A dash between digits is a range or a minus; elsewhere a pause.
			if i > 0 && i+1 < len(rs) && unicode.IsDigit(rs[i-1]) && unicode.IsDigit(rs[i+1]) {
				b.WriteByte('-')
			} else if r == '−' {
				b.WriteByte('-')
			} else {
				b.WriteString(", ")
			}
		default:
			if s, ok := translit[r]; ok {
				b.WriteString(s)
			} else {
				b.WriteByte(' ')
			}
		}
	}
	return b.String()
}

// digitValue returns the value of r, a decimal digit (Unicode category Nd).
// Nd digits come in runs of ten from zero, some runs back to back.
func digitValue(r rune) int {
	zero := r
	for unicode.Is(unicode.Nd, zero-1) {
		zero--
	}
	return int(r-zero) % 10
}

// translit maps non-ASCII characters to ASCII: Latin letters with diacritics
// and other Latin letters (Latin-1 Supplement, Latin Extended-A, parts of
// Extended-B and Extended Additional, which Vietnamese uses), ligatures,
// typographic punctuation, and symbols that stand for words.
var translit = func() map[rune]string {
	groups := []struct{ from, to string }{
		{"ÀÁÂÃÄÅĀĂĄǍǞǠǺȀȂȦȺḀẠẢẤẦẨẪẬẮẰẲẴẶ", "A"}, {"àáâãäåāăąǎǟǡǻȁȃȧḁạảấầẩẫậắằẳẵặ", "a"},
		{"ÆǢǼ", "AE"}, {"æǣǽ", "ae"},
		{"ḂḄḆƁ", "B"}, {"ḃḅḇƀɓ", "b"},
		{"ÇĆĈĊČƇḈ", "C"}, {"çćĉċčƈḉ", "c"},
		{"ĎĐÐƊḊḌḎḐḒ", "D"}, {"ďđðɗḋḍḏḑḓ", "d"},
		{"ÈÉÊËĒĔĖĘĚȄȆȨḔḖḘḚḜẸẺẼẾỀỂỄỆƐ", "E"}, {"èéêëēĕėęěȅȇȩḕḗḙḛḝẹẻẽếềểễệɛ", "e"},
		{"Ḟ", "F"}, {"ḟƒ", "f"},
		{"ĜĞĠĢǦǴḠ", "G"}, {"ĝğġģǧǵḡ", "g"},
		{"ĤĦȞḢḤḦḨḪ", "H"}, {"ĥħȟḣḥḧḩḫẖ", "h"},
		{"ÌÍÎÏĨĪĬĮİǏȈȊḬḮỈỊ", "I"}, {"ìíîïĩīĭįıǐȉȋḭḯỉị", "i"},
		{"Ĳ", "IJ"}, {"ĳ", "ij"}, {"Ĵ", "J"}, {"ĵǰ", "j"},
		{"ĶǨḰḲḴ", "K"}, {"ķĸǩḱḳḵ", "k"},
		{"ĹĻĽĿŁḶḸḺḼ", "L"}, {"ĺļľŀłḷḹḻḽ", "l"},
		{"ḾṀṂ", "M"}, {"ḿṁṃ", "m"},
		{"ÑŃŅŇŊǸṄṆṈṊ", "N"}, {"ñńņňŉŋǹṅṇṉṋ", "n"},
		{"ÒÓÔÕÖØŌŎŐƠǑǪǬǾȌȎȪȬȮȰṌṎṐṒỌỎỐỒỔỖỘỚỜỞỠỢ", "O"}, {"òóôõöøōŏőơǒǫǭǿȍȏȫȭȯȱṍṏṑṓọỏốồổỗộớờởỡợ", "o"},
		{"Œ", "OE"}, {"œ", "oe"},
		{"ṔṖ", "P"}, {"ṕṗ", "p"},
		{"ŔŖŘȐȒṘṚṜṞ", "R"}, {"ŕŗřȑȓṙṛṝṟ", "r"},
		{"ŚŜŞŠȘṠṢṤṦṨ", "S"}, {"śŝşšșſṡṣṥṧṩ", "s"}, {"ßẞ", "ss"},
		{"ŢŤŦȚṪṬṮṰ", "T"}, {"ţťŧțṫṭṯṱẗ", "t"}, {"Þ", "TH"}, {"þ", "th"},
		{"ÙÚÛÜŨŪŬŮŰŲƯǓǕǗǙǛȔȖṲṴṶṸṺỤỦỨỪỬỮỰ", "U"}, {"ùúûüũūŭůűųưǔǖǘǚǜȕȗṳṵṷṹṻụủứừửữự", "u"},
		{"ṼṾ", "V"}, {"ṽṿ", "v"},
		{"ŴẀẂẄẆẈ", "W"}, {"ŵẁẃẅẇẉẘ", "w"},
		{"ẊẌ", "X"}, {"ẋẍ", "x"},
		{"ÝŸŶȲẎỲỴỶỸ", "Y"}, {"ýÿŷȳẏẙỳỵỷỹ", "y"},
		{"ŹŻŽẐẒẔƵ", "Z"}, {"źżžẑẓẕƶ", "z"},
		{"ﬀ", "ff"}, {"ﬁ", "fi"}, {"ﬂ", "fl"}, {"ﬃ", "ffi"}, {"ﬄ", "ffl"}, {"ﬆ", "st"},
		{"‘’‚‛′´ʼ", "'"}, {"“”„‟″«»‹›", `"`}, {"‐‑", "-"},
		{"…", "..."}, {"•·", ", "}, {"¡¿", " "}, {"⁄∕", "/"},
		{"×", " times "}, {"÷", " divided by "}, {"±", " plus or minus "},
		{"½", " one half "}, {"⅓", " one third "}, {"¼", " one quarter "}, {"¾", " three quarters "},
		{"№", " number "}, {"§", " section "}, {"‰", " per mille "}, {"∞", " infinity "},
	}
	m := make(map[rune]string)
	for _, g := range groups {
		for _, r := range g.from {
			m[r] = g.to
		}
	}
	return m
}()

// finish makes the output of expand tidy and safe: it keeps ASCII letters,
// apostrophes and hyphens between letters, and the pause punctuation
// . , ! ? ; : (a run of them becomes its strongest one), puts single spaces
// between words and after punctuation and none before it.
func finish(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	rs := []rune(s)
	letter := func(i int) bool { return i >= 0 && i < len(rs) && isASCIILetter(rs[i]) }
	space := false   // a space is due before the next word
	punct := rune(0) // the strongest mark of the current run
	dots := 0        // full stops in the run: an ellipsis is a pause
	flush := func() {
		if dots > 1 && punct == '.' {
			punct = ','
		}
		if punct != 0 && b.Len() > 0 {
			b.WriteRune(punct)
			space = true
		}
		punct, dots = 0, 0
	}
	hyphen := false // a hyphen joins the last word and the next
	for i, r := range rs {
		switch {
		case isASCIILetter(r), (r == '\'' || r == '-') && letter(i-1) && letter(i+1):
			if hyphen && punct == 0 {
				b.WriteByte('-')
			} else {
				flush()
				if space && b.Len() > 0 {
					b.WriteByte(' ')
				}
			}
			space, hyphen = false, false
			b.WriteRune(r)
		case r == hyphenMark:
			hyphen = b.Len() > 0 && punct == 0
		case strings.ContainsRune(".,!?;:", r):
			if punctRank(r) > punctRank(punct) {
				punct = r
			}
			if r == '.' {
				dots++
			}
		default:
			space = true
		}
	}
	// The text ends with a full stop, question or exclamation mark, or
	// nothing; not with a pause.
	switch punct {
	case '.':
		dots = 0
	case ',', ';', ':':
		punct = '.'
	}
	flush()
	return b.String()
}

// hyphenMark is what expand writes for a hyphen between two words, with
// spaces around it that finish removes. prepare turns the character (U+2010
// HYPHEN) into "-", so it cannot come from the text.
const hyphenMark = '‐'

// punctRank orders pause punctuation by strength; a run of marks keeps the
// strongest.
func punctRank(r rune) int {
	return strings.IndexRune(",:;.!?", r) + 1
}
