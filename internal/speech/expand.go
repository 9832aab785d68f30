package speech

import (
	"regexp"
	"strings"
	"unicode"
)

// Token kinds.
const (
	tNone = iota - 1 // before the first token or after the last
	tSpace
	tDotted   // digit groups joined by dots: versions, addresses, dotted dates
	tNumber   // a number, text without its suffix
	tInitials // letters each followed by a dot: "U.S.", "e.g."
	tWord     // letters with inner apostrophes, and a final dot if any
	tSymbol   // any other single character
)

type token struct {
	kind   int
	text   string
	suffix string // of a number: "st", "%", "km", "°C", "'s"...
}

// tokenRE matches one token, in order of preference: spaces; digit groups
// joined by two dots or more; a number (thousands separators and decimals)
// with what is written against it; initials; a word; any other character.
var tokenRE = regexp.MustCompile(`(\s+)` +
	`|(\d+(?:\.\d+){2,})` +
	`|((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)('s|[A-Za-z]+[²³]?|%|°[CFcf]?|[²³°])?` +
	`|((?:[A-Za-z]\.){2,})` +
	`|([A-Za-z]+(?:'[A-Za-z]+)*\.?)` +
	`|(.)`)

// tokenize splits s, the output of prepare, into tokens.
func tokenize(s string) []token {
	var toks []token
	for _, m := range tokenRE.FindAllStringSubmatchIndex(s, -1) {
		g := func(k int) string {
			if m[2*k] < 0 {
				return ""
			}
			return s[m[2*k]:m[2*k+1]]
		}
		switch {
		case m[2] >= 0:
			toks = append(toks, token{kind: tSpace, text: " "})
		case m[4] >= 0:
			toks = append(toks, token{kind: tDotted, text: g(2)})
		case m[6] >= 0:
			toks = append(toks, token{kind: tNumber, text: g(3), suffix: g(4)})
		case m[10] >= 0:
			toks = append(toks, token{kind: tInitials, text: g(5)})
		case m[12] >= 0:
			toks = append(toks, token{kind: tWord, text: g(6)})
		default:
			toks = append(toks, token{kind: tSymbol, text: g(7)})
		}
	}
	return toks
}

// expander reads tokens into words; see CleanText.
type expander struct {
	toks []token
	out  strings.Builder
}

// expand reads toks, the tokens of a prepared text, as words: see CleanText.
// Words are separated by spaces, often several; finish tidies them.
func expand(toks []token) string {
	e := &expander{toks: toks}
	for i := 0; i < len(toks); {
		i = e.token(i)
	}
	return e.out.String()
}

// say appends words, with spaces around them.
func (e *expander) say(words ...string) {
	for _, w := range words {
		if w == "" {
			continue
		}
		e.out.WriteByte(' ')
		e.out.WriteString(w)
		e.out.WriteByte(' ')
	}
}

func (e *expander) at(i int) token {
	if i < 0 || i >= len(e.toks) {
		return token{kind: tNone}
	}
	return e.toks[i]
}

// next returns the index of the first token after i that is not a space,
// if at most one space lies between.
func (e *expander) next(i int) int {
	if e.at(i+1).kind == tSpace {
		return i + 2
	}
	return i + 1
}

// prev is next's mirror.
func (e *expander) prev(i int) int {
	if e.at(i-1).kind == tSpace {
		return i - 2
	}
	return i - 1
}

// isSym reports whether token i is the symbol s.
func (e *expander) isSym(i int, s string) bool {
	t := e.at(i)
	return t.kind == tSymbol && t.text == s
}

// opens reports whether token i may stand before a sign: the start, a space,
// or an opening bracket.
func (e *expander) opens(i int) bool {
	t := e.at(i)
	return t.kind == tNone || t.kind == tSpace || t.kind == tSymbol && strings.Contains("([{\"'/", t.text)
}

// capitalized reports whether token i is a word that starts with a capital.
func (e *expander) capitalized(i int) bool {
	t := e.at(i)
	return (t.kind == tWord || t.kind == tInitials) && t.text[0] >= 'A' && t.text[0] <= 'Z'
}

// token reads token i and what it needs after it, and returns the index of
// the next token to read.
func (e *expander) token(i int) int {
	t := e.toks[i]
	switch t.kind {
	case tSpace:
		e.out.WriteByte(' ')
	case tDotted:
		e.dotted(t.text)
	case tNumber:
		return e.number(i)
	case tInitials:
		e.initials(i)
	case tWord:
		return e.word(i)
	case tSymbol:
		return e.symbol(i)
	}
	return i + 1
}

// dotted reads digit groups joined by dots: a day.month.year date, or a
// version or an address, "one dot two dot three".
func (e *expander) dotted(s string) {
	parts := strings.Split(s, ".")
	if len(parts) == 3 && len(parts[2]) == 4 {
		d, okD := integer(parts[0])
		m, okM := integer(parts[1])
		y, okY := integer(parts[2])
		if okD && okM && okY && validDate(m, d) {
			e.say("the", ordinal(d), "of", months[m-1], ",", readYear(y))
			return
		}
	}
	for i, p := range parts {
		if i > 0 {
			e.say("dot")
		}
		e.say(number(p))
	}
}

// initials reads "U.S." as "U S", and the abbreviations written that way.
func (e *expander) initials(i int) {
	t := e.toks[i]
	lower := strings.ToLower(t.text)
	switch lower {
	case "e.g.":
		e.say("for example")
	case "i.e.":
		e.say("that is")
	case "a.m.", "p.m.":
		e.say(strings.ToUpper(lower[:1]), "M")
	default:
		for _, r := range strings.ReplaceAll(t.text, ".", "") {
			e.say(string(unicode.ToUpper(r)))
		}
	}
	// The dot may also end the sentence; a capital after "U.S." is more
	// often a name than a new sentence, after "p.m." the other way round.
	switch n := e.next(i); {
	case e.at(n).kind == tNone:
		e.out.WriteByte('.')
	case (lower == "a.m." || lower == "p.m.") && e.capitalized(n):
		e.out.WriteByte('.')
	}
}

// sentenceStart reports whether token i starts a sentence: nothing but
// spaces and opening quotes or brackets lie between it and the start of the
// text or a full stop, question or exclamation mark.
func (e *expander) sentenceStart(i int) bool {
	for j := i - 1; ; j-- {
		t := e.at(j)
		switch {
		case t.kind == tNone:
			return true
		case t.kind == tSpace || t.kind == tSymbol && strings.Contains("\"'([{", t.text):
			continue
		case t.kind == tSymbol && strings.Contains(".!?", t.text):
			return true
		case t.kind == tWord && strings.HasSuffix(t.text, "."):
			return true
		}
		return false
	}
}

// endsSentence reports whether token i, an abbreviation ending in a dot,
// also ends a sentence: the text ends there or a capitalized word follows.
func (e *expander) endsSentence(i int) bool {
	if !strings.HasSuffix(e.at(i).text, ".") {
		return false
	}
	n := e.next(i)
	return e.at(n).kind == tNone || e.capitalized(n)
}

// endSentence says the full stop that an abbreviation's dot at token i also
// was, when the text ends there or a capitalized word follows.
func (e *expander) endSentence(i int) {
	n := e.next(i)
	if e.at(n).kind == tNone || e.capitalized(n) {
		e.out.WriteByte('.')
	}
}

var months = []string{"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"}

// month returns the month (1-12) a word names, in full or abbreviated
// ("Nov", "Sept."), or 0; short reports an abbreviation.
func month(word string) (m uint64, short bool) {
	w := strings.ToLower(strings.TrimSuffix(word, "."))
	for i, name := range months {
		n := strings.ToLower(name)
		switch {
		case w == n:
			return uint64(i + 1), false
		case len(w) == 3 && w == n[:3], w == "sept" && i == 8:
			return uint64(i + 1), true
		}
	}
	return 0, false
}

func validDate(m, d uint64) bool { return m >= 1 && m <= 12 && d >= 1 && d <= 31 }

// isDay reports whether token i is a number that can be a day of a month.
func (e *expander) isDay(i int) bool {
	t := e.at(i)
	if t.kind != tNumber || strings.Contains(t.text, ".") {
		return false
	}
	if t.suffix != "" && !isOrdinalSuffix(t.suffix) {
		return false
	}
	d, ok := integer(t.text)
	return ok && d >= 1 && d <= 31
}

func isOrdinalSuffix(s string) bool {
	switch strings.ToLower(s) {
	case "st", "nd", "rd", "th":
		return true
	}
	return false
}

// titles are abbreviations said in full before a name.
var titles = map[string]string{
	"mr": "Mister", "mrs": "Missus", "ms": "Miz", "prof": "Professor", "capt": "Captain",
	"gen": "General", "lt": "Lieutenant", "sgt": "Sergeant", "col": "Colonel", "rev": "Reverend",
	"hon": "Honorable", "gov": "Governor", "sen": "Senator", "pres": "President", "fr": "Father",
}

// abbreviations are said in full when written with their dot.
var abbreviations = map[string]string{
	"etc": "et cetera", "vs": "versus", "approx": "approximately", "dept": "department",
	"ave": "Avenue", "blvd": "Boulevard", "rd": "Road", "ln": "Lane", "hwy": "Highway",
	"jr": "Junior", "sr": "Senior", "inc": "Incorporated", "ltd": "Limited", "corp": "Corporation",
	"mt": "Mount", "min": "minutes", "hrs": "hours", "yrs": "years", "est": "established",
}

// word reads the word at i: months next to a day, abbreviations, and the
// word itself otherwise.
func (e *expander) word(i int) int {
	t := e.toks[i]
	base, dot := strings.CutSuffix(t.text, ".")
	lower := strings.ToLower(base)
	n := e.next(i)
	switch m, short := month(t.text); {
	case m > 0 && short && e.capitalized(i) && (e.isDay(n) || e.isDay(e.prev(i)) || e.at(n).kind == tNumber && len(e.at(n).text) == 4):
		e.say(months[m-1])
		return i + 1
	}
	// w/ and w/o for "with" and "without".
	if lower == "w" && e.isSym(i+1, "/") {
		if t2 := e.at(i + 2); t2.kind == tWord && strings.ToLower(t2.text) == "o" {
			e.say("without")
			return i + 3
		}
		e.say("with")
		return i + 2
	}
	// After a name, "Dr." and "St." are a drive and a street ("Mulholland
	// Dr."); before one, a doctor and a saint. A capital at the start of a
	// sentence is not a name.
	afterName := e.capitalized(e.prev(i)) && !e.sentenceStart(e.prev(i))
	switch {
	case lower == "dr" && (dot || e.capitalized(n)):
		if afterName && !e.capitalized(n) {
			e.say("Drive")
			e.endSentence(i)
		} else {
			e.say("Doctor")
		}
		return i + 1
	case lower == "st" && (dot || e.capitalized(n)):
		if e.capitalized(n) && !afterName {
			e.say("Saint")
		} else {
			e.say("Street")
			if dot {
				e.endSentence(i)
			}
		}
		return i + 1
	case lower == "mr" || lower == "mrs" || lower == "ms":
		if dot || e.capitalized(n) {
			e.say(titles[lower])
			return i + 1
		}
	}
	if full, ok := titles[lower]; ok && dot && e.at(n).kind != tNone {
		e.say(full)
		return i + 1
	}
	if lower == "no" && dot && e.at(n).kind == tNumber {
		e.say("number")
		return i + 1
	}
	if full, ok := abbreviations[lower]; ok && (dot || lower == "vs" || lower == "etc") {
		e.say(full)
		if dot {
			e.endSentence(i)
		}
		return i + 1
	}
	e.say(base)
	if dot {
		e.out.WriteByte('.')
	}
	return i + 1
}

// currencies maps currency symbols to their units' names: singular, plural,
// and the hundredth's singular and plural ("" for none).
var currencies = map[string][4]string{
	"$": {"dollar", "dollars", "cent", "cents"},
	"€": {"euro", "euros", "cent", "cents"},
	"£": {"pound", "pounds", "penny", "pence"},
	"¥": {"yen", "yen", "", ""},
	"₹": {"rupee", "rupees", "paisa", "paise"},
	"₩": {"won", "won", "", ""},
	"₽": {"ruble", "rubles", "kopek", "kopeks"},
	"¢": {"cent", "cents", "", ""},
}

// magnitudes are the suffixes and words that scale an amount of money.
var magnitudes = map[string]string{
	"k": "thousand", "K": "thousand", "m": "million", "M": "million", "mm": "million",
	"b": "billion", "B": "billion", "bn": "billion", "tn": "trillion",
	"thousand": "thousand", "million": "million", "billion": "billion", "trillion": "trillion",
}

// symbol reads the symbol at i.
func (e *expander) symbol(i int) int {
	t := e.toks[i]
	n := e.next(i)
	switch s := t.text; s {
	case "-", "+":
		sign := map[string]string{"-": "minus", "+": "plus"}[s]
		after := e.at(i + 1)
		if after.kind == tNumber || after.kind == tSymbol && currencies[after.text][0] != "" {
			if e.opens(i-1) || s == "+" {
				e.say(sign)
				return i + 1
			}
		}
		switch {
		case s == "+":
			e.say("plus")
		case e.at(i-1).kind == tWord && after.kind == tWord:
			e.out.WriteRune(hyphenMark) // well-known
		case e.opens(i-1) && (after.kind == tSpace || after.kind == tNone):
			e.out.WriteString(", ") // a dash
		default:
			e.out.WriteByte(' ')
		}
	case "=":
		e.say("equals")
	case "&":
		e.say("and")
	case "@":
		e.say("at")
	case "#":
		switch e.at(i + 1).kind {
		case tNumber:
			e.say("number")
		case tWord:
			e.say("hashtag")
		default:
			e.out.WriteByte(' ')
		}
	case "%":
		e.say("percent")
	case "°":
		e.say("degrees")
	case "²":
		e.say("squared")
	case "³":
		e.say("cubed")
	case "(", ")", "[", "]", "{", "}":
		e.out.WriteString(", ")
	case ".":
		// ".5" is "point five".
		if num := e.at(i + 1); num.kind == tNumber && e.opens(i-1) && !strings.Contains(num.text, ".") && num.suffix == "" {
			e.say("point", digitWords(num.text))
			return i + 2
		}
		e.out.WriteByte('.')
	case ",", "!", "?", ";", ":":
		e.out.WriteString(s)
	default:
		if names, ok := currencies[s]; ok {
			if num := e.at(n); num.kind == tNumber && (n == i+1 || e.at(i+1).kind == tSpace) {
				return e.money(n, names)
			}
		}
		e.out.WriteByte(' ')
	}
	return i + 1
}

// money reads the amount at token i in the currency names, with a scale
// ("$2.5M", "$3 million"), and returns the index of the next token.
func (e *expander) money(i int, names [4]string) int {
	t := e.toks[i]
	next := i + 1
	scale := ""
	switch m, ok := magnitudes[t.suffix]; {
	case ok:
		scale = m
	case t.suffix != "":
		e.say(number(t.text))
		next = e.suffix(t, i)
		e.say(names[1])
		return next
	default:
		if w := e.at(e.next(i)); w.kind == tWord {
			if m, ok := magnitudes[strings.ToLower(w.text)]; ok && len(w.text) > 2 {
				scale, next = m, e.next(i)+1
			}
		}
	}
	e.say(amount(t.text, names, scale))
	return next
}

// amount reads an amount of money: "5.99" dollars is "five dollars and
// ninety-nine cents"; "0.50" is "fifty cents"; "2.5" with scale "million" is
// "two point five million dollars".
func amount(num string, names [4]string, scale string) string {
	whole, frac, _ := strings.Cut(strings.ReplaceAll(num, ",", ""), ".")
	if scale != "" {
		return number(num) + " " + scale + " " + names[1]
	}
	n, ok := integer(whole)
	if !ok {
		return number(num) + " " + names[1]
	}
	unit := names[1]
	if n == 1 {
		unit = names[0]
	}
	if frac == "" || strings.Trim(frac, "0") == "" && len(frac) <= 2 {
		return cardinal(n) + " " + unit
	}
	if len(frac) > 2 || names[2] == "" {
		return number(num) + " " + names[1]
	}
	if len(frac) == 1 {
		frac += "0"
	}
	c, _ := integer(frac)
	sub := names[3]
	if c == 1 {
		sub = names[2]
	}
	if n == 0 {
		return cardinal(c) + " " + sub
	}
	return cardinal(n) + " " + unit + " and " + cardinal(c) + " " + sub
}

// units are said in full after a number: singular and plural. Those marked
// attached are units only when written against the number ("5m", not
// "5 m"), since alone they are common words or letters.
var units = map[string]struct {
	one, many string
	attached  bool
}{
	"km": {"kilometer", "kilometers", false}, "m": {"meter", "meters", true},
	"cm": {"centimeter", "centimeters", false}, "mm": {"millimeter", "millimeters", false},
	"kg": {"kilogram", "kilograms", false}, "g": {"gram", "grams", true}, "mg": {"milligram", "milligrams", false},
	"lb": {"pound", "pounds", false}, "lbs": {"pounds", "pounds", false}, "oz": {"ounce", "ounces", false},
	"ft": {"foot", "feet", false}, "mi": {"mile", "miles", false}, "yd": {"yard", "yards", false},
	"mph": {"mile per hour", "miles per hour", false}, "kph": {"kilometer per hour", "kilometers per hour", false},
	"kmh": {"kilometer per hour", "kilometers per hour", false},
	"l":   {"liter", "liters", true}, "ml": {"milliliter", "milliliters", false},
	"h": {"hour", "hours", true}, "hr": {"hour", "hours", false}, "hrs": {"hours", "hours", false},
	"min": {"minute", "minutes", false}, "mins": {"minutes", "minutes", false},
	"s": {"second", "seconds", true}, "sec": {"second", "seconds", false}, "secs": {"seconds", "seconds", false},
	"ms": {"millisecond", "milliseconds", false},
	"kb": {"kilobyte", "kilobytes", false}, "mb": {"megabyte", "megabytes", false},
	"gb": {"gigabyte", "gigabytes", false}, "tb": {"terabyte", "terabytes", false},
	"hz": {"hertz", "hertz", false}, "khz": {"kilohertz", "kilohertz", false},
	"mhz": {"megahertz", "megahertz", false}, "ghz": {"gigahertz", "gigahertz", false},
	"kw": {"kilowatt", "kilowatts", false}, "kwh": {"kilowatt hour", "kilowatt hours", false},
	"w": {"watt", "watts", true}, "v": {"volt", "volts", true},
	"x": {"times", "times", true}, "k": {"thousand", "thousand", true},
}

// number reads the number at i with its suffix and whatever it forms with
// the tokens after it (ranges, dates, times, money, units), and returns the
// index of the next token.
func (e *expander) number(i int) int {
	t := e.toks[i]
	// Joined groups: 10-20, 555-1234, 2026-11-24; 11/24/2026, 3/4; 10:30.
	if t.suffix == "" {
		for _, sep := range []string{"-", "/", ":"} {
			if e.isSym(i+1, sep) && e.at(i+2).kind == tNumber {
				return e.joined(i, sep)
			}
		}
	}
	n := e.next(i)
	after := e.at(n)
	// A currency symbol after the amount: "20€", "5 $".
	if t.suffix == "" && after.kind == tSymbol {
		if names, ok := currencies[after.text]; ok {
			e.say(amount(t.text, names, ""))
			return n + 1
		}
	}
	// A day before a month: "24 Nov", "3rd of March".
	if e.isDay(i) && e.capitalized(n) {
		if m, _ := month(after.text); m > 0 {
			d, _ := integer(t.text)
			e.say("the", ordinal(d), "of", months[m-1])
			return n + 1
		}
	}
	// A day after a month: "March 3", "Nov. 24th".
	if e.isDay(i) {
		if p := e.prev(i); e.capitalized(p) {
			if m, _ := month(e.at(p).text); m > 0 {
				d, _ := integer(t.text)
				e.say(ordinal(d))
				return i + 1
			}
		}
	}
	// A time of day: "3 pm", "11 a.m.".
	if t.suffix == "" && !strings.Contains(t.text, ".") {
		if ap := amPM(after); ap != "" {
			e.say(number(t.text), ap)
			if e.endsSentence(n) {
				e.out.WriteByte('.')
			}
			return n + 1
		}
	}
	// A unit or a percent sign after a space: "5 km", "20 %".
	if t.suffix == "" && n == i+2 {
		if after.kind == tWord {
			if u, ok := units[strings.ToLower(strings.TrimSuffix(after.text, "."))]; ok && !u.attached {
				e.say(number(t.text), unitName(t.text, u.one, u.many))
				if strings.HasSuffix(after.text, ".") {
					e.endSentence(n)
				}
				return n + 1
			}
		}
		if e.isSym(n, "%") {
			e.say(number(t.text), "percent")
			return n + 1
		}
	}
	// Decades and plurals: "the 1990s", "her 20s", "in 5s"; "5s" alone is
	// seconds.
	if v, ok := integer(t.text); ok && (t.suffix == "'s" || t.suffix == "s" && v%10 == 0 && v >= 10) {
		e.say(plural(numeral(token{kind: tNumber, text: t.text})))
		return i + 1
	}
	e.say(numeral(t))
	return e.suffix(t, i)
}

// numeral reads a number token on its own: a year if it looks like one,
// else a number.
func numeral(t token) string {
	if !strings.ContainsAny(t.text, ".,") && len(t.text) == 4 && t.text[0] != '0' {
		n, _ := integer(t.text)
		if n >= 1100 && n <= 2099 && !isOrdinalSuffix(t.suffix) && t.suffix != "%" && !isUnit(t.suffix) {
			return year(n)
		}
	}
	if n, ok := integer(t.text); ok && isOrdinalSuffix(t.suffix) {
		return ordinal(n)
	}
	return number(t.text)
}

// readYear reads a number that is a year.
func readYear(n uint64) string {
	if n >= 1000 && n <= 2099 {
		return year(n)
	}
	return cardinal(n)
}

func isUnit(suffix string) bool {
	_, ok := units[strings.ToLower(strings.TrimRight(suffix, "²³"))]
	return ok
}

func unitName(num, one, many string) string {
	if num == "1" {
		return one
	}
	return many
}

// amPM returns "A M" or "P M" if t is one of their spellings, else "".
func amPM(t token) string {
	if t.kind != tWord && t.kind != tInitials {
		return ""
	}
	switch strings.ToLower(strings.TrimSuffix(t.text, ".")) {
	case "am", "a.m":
		return "A M"
	case "pm", "p.m":
		return "P M"
	}
	return ""
}

// suffix reads what is written against the number t (token i), after the
// number itself: "%", units, a time's am or pm, or letters. It returns the
// index of the next token: after i, or after a unit's "/h" or "/s".
func (e *expander) suffix(t token, i int) int {
	s := t.suffix
	switch {
	case s == "":
	case isOrdinalSuffix(s):
		if _, ok := integer(t.text); !ok {
			e.say(s) // else numeral read it
		}
	case s == "%":
		e.say("percent")
	case s == "°" || strings.EqualFold(s, "°C") || strings.EqualFold(s, "°F"):
		e.say("degrees")
		switch strings.ToUpper(s) {
		case "°C":
			e.say("Celsius")
		case "°F":
			e.say("Fahrenheit")
		}
	case s == "²":
		e.say("squared")
	case s == "³":
		e.say("cubed")
	case s == "K": // "4K" is not 4000
		e.say("K")
	case amPM(token{kind: tWord, text: s}) != "":
		e.say(amPM(token{kind: tWord, text: s}))
	default:
		unit := strings.TrimRight(s, "²³")
		power := strings.TrimPrefix(s, unit)
		if u, ok := units[strings.ToLower(unit)]; ok {
			name := unitName(t.text, u.one, u.many)
			switch power {
			case "²":
				name = "square " + name
			case "³":
				name = "cubic " + name
			}
			// "km/h", "m/s".
			if e.isSym(i+1, "/") {
				if per := e.at(i + 2); per.kind == tWord {
					if pu, ok := units[strings.ToLower(per.text)]; ok {
						e.say(name, "per", pu.one)
						return i + 3
					}
				}
			}
			e.say(name)
			return i + 1
		}
		// Letters: "4K", "3D" are said letter by letter; "5cats" is a word.
		if len(unit) <= 3 && strings.ToUpper(unit) == unit {
			for _, r := range unit {
				e.say(string(r))
			}
		} else {
			e.say(unit)
		}
		e.say(map[string]string{"²": "squared", "³": "cubed"}[power])
	}
	return i + 1
}

// joined reads numbers joined by sep at i: dates, times, fractions, ranges
// and phone numbers, and returns the index of the next token.
func (e *expander) joined(i int, sep string) int {
	var groups []token
	j := i
	for {
		groups = append(groups, e.toks[j])
		if e.toks[j].suffix != "" || !e.isSym(j+1, sep) || e.at(j+2).kind != tNumber {
			break
		}
		j += 2
	}
	end := j + 1
	plain := true
	for _, g := range groups {
		if strings.ContainsAny(g.text, ".,") {
			plain = false
		}
	}
	last := groups[len(groups)-1]
	vals := make([]uint64, len(groups))
	for k, g := range groups {
		vals[k], _ = integer(g.text)
	}
	switch {
	case !plain:
		// "1.5-2" and the like: each number, then "to" or the separator.
	case sep == "-" && len(groups) == 3 && len(groups[0].text) == 4 && validDate(vals[1], vals[2]) && last.suffix == "":
		e.say(months[vals[1]-1], ordinal(vals[2]), ",", readYear(vals[0]))
		return end
	case sep == "/" && len(groups) == 3 && last.suffix == "":
		y := vals[2]
		yr := readYear(y)
		if len(groups[2].text) == 2 {
			yr = number(groups[2].text)
		}
		switch {
		case validDate(vals[0], vals[1]):
			e.say(months[vals[0]-1], ordinal(vals[1]), ",", yr)
			return end
		case validDate(vals[1], vals[0]):
			e.say("the", ordinal(vals[0]), "of", months[vals[1]-1], ",", yr)
			return end
		}
	case sep == "/" && len(groups) == 2 && last.suffix == "":
		a, b := vals[0], vals[1]
		switch {
		case a < b && b <= 10 && a > 0:
			e.say(fraction(a, b))
			return end
		case a == 24 && b == 7:
			e.say("twenty" + string(hyphenMark) + "four seven")
			return end
		case validDate(a, b) && len(groups[1].text) <= 2:
			e.say(months[a-1], ordinal(b))
			return end
		}
	case sep == ":" && len(groups) <= 3 && len(groups[1].text) == 2 && vals[0] <= 24 && vals[1] < 60:
		return e.clock(groups, end)
	case sep == "-" && isPhone(groups):
		for k, g := range groups {
			if k > 0 {
				e.out.WriteString(",")
			}
			e.say(digitWords(g.text))
		}
		return e.suffix(last, end-1)
	case sep == "-" && len(groups) == 2:
		e.say(numeral(groups[0]), "to", numeral(last))
		return e.suffix(last, end-1)
	}
	word := map[string]string{"-": "to", "/": "slash", ":": "to"}[sep]
	for k, g := range groups {
		if k > 0 {
			e.say(word)
		}
		e.say(numeral(g))
	}
	return e.suffix(last, end-1)
}

// isPhone reports whether digit groups joined by hyphens are a phone number
// or a code rather than a range: three groups or more, a group with a
// leading zero or over four digits, or 3-4 digits as in 555-1234.
func isPhone(groups []token) bool {
	if len(groups) >= 3 {
		return true
	}
	for _, g := range groups {
		if len(g.text) > 4 || len(g.text) > 1 && g.text[0] == '0' {
			return true
		}
	}
	return len(groups[0].text) == 3 && len(groups[1].text) == 4
}

// fraction reads a/b for 0 < a < b <= 10: "one half", "three quarters".
func fraction(a, b uint64) string {
	var den string
	switch b {
	case 2:
		den = "half"
		if a > 1 {
			den = "halves"
		}
		return cardinal(a) + " " + den
	case 4:
		den = "quarter"
	default:
		den = ordinal(b)
	}
	if a > 1 {
		den = plural(den)
	}
	return cardinal(a) + " " + den
}

// clock reads a time of day, h:mm or h:mm:ss, with am or pm written against
// it or after it, and returns the index of the next token.
func (e *expander) clock(groups []token, end int) int {
	h, _ := integer(groups[0].text)
	m, _ := integer(groups[1].text)
	last := groups[len(groups)-1]
	ap := amPM(token{kind: tWord, text: last.suffix})
	stop := false // the am or pm after the time ends a sentence
	if ap == "" && last.suffix == "" {
		if n := e.next(end - 1); amPM(e.at(n)) != "" {
			ap, end = amPM(e.at(n)), n+1
			stop = e.endsSentence(n)
		}
	}
	hour := cardinal(h)
	switch {
	case m == 0 && ap != "":
		e.say(hour)
	case m == 0 && h > 12:
		e.say(hour, "hundred")
	case m == 0:
		e.say(hour, "o'clock")
	case m < 10:
		e.say(hour, "oh", ones[m])
	default:
		e.say(hour, cardinal(m))
	}
	if len(groups) == 3 {
		s, _ := integer(groups[2].text)
		e.say("and", cardinal(s), unitName(groups[2].text, "second", "seconds"))
	}
	e.say(ap)
	if ap == "" {
		end = e.suffix(last, end-1)
	}
	if stop {
		e.out.WriteByte('.')
	}
	return end
}
