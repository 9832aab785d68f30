package speech

import (
	"strings"
	"testing"
	"unicode/utf8"

	"stillmotion/internal/fault"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Letters, spaces, punctuation.
		{"plain", "Hello, world!", "Hello, world!"},
		{"spaces", "  Hello\t\tthere \n\n friend  ", "Hello there friend"},
		{"controls", "Hel\x00lo\x07 wor\x1bld\x7f", "Hello world"},
		{"crlf", "one\r\ntwo", "one two"},
		{"zero width", "zero\u200bwidth\ufeff", "zerowidth"},
		{"accents", "Café naïve Zürich Ærø Straße Łódź Ø", "Cafe naive Zurich AEro Strasse Lodz O"},
		{"romanian", "Ștefan țară", "Stefan tara"},
		{"vietnamese", "Việt Nam, phở", "Viet Nam, pho"},
		{"ligature", "ﬁne ﬂower", "fine flower"},
		{"full width", "Ｈｅｌｌｏ １２３", "Hello one hundred twenty-three"},
		{"other digits", "٣ cats", "three cats"},
		{"emoji", "Hi😀there 👍🏽 ok", "Hi there ok"},
		{"emoji sequence", "family 👨‍👩‍👧 time ❤️", "family time"},
		{"other scripts", "Привет hello 你好", "hello"},
		{"invalid utf8", "ab\xffcd", "ab cd"},
		{"smart quotes", "“Don’t,” she said.", "Don't, she said."},
		{"dashes", "wait — what – now", "wait, what, now"},
		{"hyphen", "a well-known fact", "a well-known fact"},
		{"ellipsis", "and so… on", "and so, on"},
		{"dots", "Wait...", "Wait."},
		{"brackets", "[note] {x} (y)", "note, x, y."},
		{"space before punct", "hello , world !", "hello, world!"},
		{"punct runs", "What?!! Really?..", "What? Really?"},
		{"leading punct", "...and then", "and then"},
		{"leading dash", "-help me", "help me"},
		{"noise symbols", "*bold* <b>x</b> a|b c\\d e_f ~g^", "bold x a b c d e f g"},
		{"symbols", "you & me, 1+1=2 and/or", "you and me, one plus one equals two and or"},
		{"hashtag", "#1 #love @anna", "number one hashtag love at anna"},

		// Numbers.
		{"integer", "42", "forty-two"},
		{"thousands", "1,250", "one thousand two hundred fifty"},
		{"million", "1,000,000 and 2500000", "one million and two million five hundred thousand"},
		{"decimal", "3.5 and 0.25", "three point five and zero point two five"},
		{"point", ".5 liters", "point five liters"},
		{"negative", "-4 degrees, (-2)", "minus four degrees, minus two."},
		{"plus", "+3", "plus three"},
		{"ordinals", "1st 2nd 3rd 4th 11th 12th 21st 101st", "first second third fourth eleventh twelfth twenty-first one hundred first"},
		{"percent", "75% and 3.5 %", "seventy-five percent and three point five percent"},
		{"leading zeros", "agent 007", "agent zero zero seven"},
		{"very long", "123456789012345678", "one two three four five six seven eight nine zero one two three four five six seven eight"},
		{"years", "1952, 2000, 2005, 1900, 1905, 2026", "nineteen fifty-two, two thousand, two thousand five, nineteen hundred, nineteen oh five, twenty twenty-six"},
		{"decades", "the 1990s and '80s, in her 20s", "the nineteen nineties and eighties, in her twenties"},
		{"range", "10-20 people, 1990-2000", "ten to twenty people, nineteen ninety to two thousand"},
		{"phone", "call 555-1234", "call five five five, one two three four"},
		{"fractions", "1/2, 3/4, 2/3", "one half, three quarters, two thirds"},
		{"around the clock", "24/7", "twenty-four seven"},
		{"version", "v1.2.3", "v one dot two dot three"},
		{"letters and digits", "A4 paper, 4K, 3D, COVID-19", "A four paper, four K, three D, COVID nineteen"},
		{"times", "2x faster", "two times faster"},
		{"units", "5km, 5 km, 10kg, 3 mph, 16GB, 1 GB", "five kilometers, five kilometers, ten kilograms, three miles per hour, sixteen gigabytes, one gigabyte"},
		{"speed", "90km/h", "ninety kilometers per hour"},
		{"temperature", "20°C, -5°F, 30°", "twenty degrees Celsius, minus five degrees Fahrenheit, thirty degrees"},
		{"area", "50m²", "fifty square meters"},

		// Money.
		{"dollars and cents", "$5.99", "five dollars and ninety-nine cents"},
		{"one dollar", "$1", "one dollar"},
		{"cents", "$0.99 and $1.01", "ninety-nine cents and one dollar and one cent"},
		{"round", "$5.00", "five dollars"},
		{"euros", "€20, 20€, €2.50", "twenty euros, twenty euros, two euros and fifty cents"},
		{"pounds", "£3, £1, £3.50", "three pounds, one pound, three pounds and fifty pence"},
		{"yen", "¥100", "one hundred yen"},
		{"cent sign", "50¢", "fifty cents"},
		{"scaled", "$2.5M and $3 million, $10k", "two point five million dollars and three million dollars, ten thousand dollars"},
		{"negative money", "-$5", "minus five dollars"},
		{"dollar after", "5 $", "five dollars"},
		{"big", "$1,250", "one thousand two hundred fifty dollars"},

		// Dates and times.
		{"iso date", "2026-11-24", "November twenty-fourth, twenty twenty-six"},
		{"us date", "11/24/2026", "November twenty-fourth, twenty twenty-six"},
		{"day first", "24/11/2026", "the twenty-fourth of November, twenty twenty-six"},
		{"dotted date", "24.11.2026", "the twenty-fourth of November, twenty twenty-six"},
		{"month day", "Nov 24", "November twenty-fourth"},
		{"month abbreviation", "Sept. 3rd", "September third"},
		{"day month year", "24 Nov 2026", "the twenty-fourth of November twenty twenty-six"},
		{"full date", "March 3rd, 1952", "March third, nineteen fifty-two"},
		{"slash month day", "12/25", "December twenty-fifth"},
		{"clock", "10:30", "ten thirty"},
		{"o'clock", "10:00", "ten o'clock"},
		{"oh", "10:05", "ten oh five"},
		{"24 hours", "18:00", "eighteen hundred"},
		{"pm", "3pm, 3 PM, 11 a.m.", "three P M, three P M, eleven A M."},
		{"clock pm", "10:30pm and 7:05 a.m. Then", "ten thirty P M and seven oh five A M. Then"},
		{"seconds", "1:02:03", "one oh two and three seconds"},
		{"ratio", "3:2", "three to two"},

		// Abbreviations.
		{"doctor", "Dr. Smith", "Doctor Smith"},
		{"doctor no dot", "Dr Who", "Doctor Who"},
		{"drive", "We live on Mulholland Dr. now", "We live on Mulholland Drive now"},
		{"saint", "Visit St. Louis", "Visit Saint Louis"},
		{"street", "We live on Main St. Then", "We live on Main Street. Then"},
		{"titles", "Mr. and Mrs. Jones met Ms. Lee and Prof. Brown", "Mister and Missus Jones met Miz Lee and Professor Brown"},
		{"latin", "e.g. apples, i.e. fruit, etc.", "for example apples, that is fruit, et cetera."},
		{"versus", "cats vs. dogs vs mice", "cats versus dogs versus mice"},
		{"number", "No. 5", "number five"},
		{"no", "No. Never.", "No. Never."},
		{"initials", "in the U.S. and the U.K.", "in the U S and the U K."},
		{"with", "w/ milk, w/o sugar", "with milk, without sugar"},
		{"sentence end", "It is 5 km. Then", "It is five kilometers. Then"},

		// Addresses.
		{"url", "see https://www.example.com/shop?id=3#top now", "see W W W dot example dot com slash shop now"},
		{"domain", "Go to example.com.", "Go to example dot com."},
		{"url path digits", "http://foo.io/v2/items", "foo dot I O slash v two slash items"},
		{"email", "mail jane.doe@mail.co.uk now", "mail jane dot doe at mail dot co dot U K now"},
		{"email underscore", "a_b+c@x.org", "a underscore b plus c at X dot org"},
		{"not a domain", "end.Then", "end. Then"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanText(tt.in)
			if err != nil {
				t.Fatalf("CleanText(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("CleanText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCardinal(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "zero"}, {7, "seven"}, {13, "thirteen"}, {20, "twenty"}, {21, "twenty-one"},
		{100, "one hundred"}, {101, "one hundred one"}, {999, "nine hundred ninety-nine"},
		{1000, "one thousand"}, {1001, "one thousand one"}, {1250, "one thousand two hundred fifty"},
		{1_000_000, "one million"}, {2_000_500_001, "two billion five hundred thousand one"},
		{maxCardinal, "nine hundred ninety-nine trillion nine hundred ninety-nine billion nine hundred ninety-nine million nine hundred ninety-nine thousand nine hundred ninety-nine"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := strings.ReplaceAll(cardinal(tt.n), string(hyphenMark), "-"); got != tt.want {
				t.Errorf("cardinal(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestCleanTextInvalid(t *testing.T) {
	for _, in := range []string{"", "   ", "\x00\x01\x02", "\n\t", "😀😀", "...!?", "—", "Привет", "\u200b", "<b></b>", "$", "#"} {
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

// FuzzCleanText checks that CleanText never panics and returns only ASCII letters, single spaces
// between words, apostrophes and hyphens within words, and pause punctuation
// after a word, which can be cleaned again.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{
		"Hello, world!", "$5.99 on 11/24/2026 at 10:30pm", "Dr. Smith, St. Louis, e.g. 3rd", "Café ☕ Straße Ø",
		"https://www.example.com/a?b=c", "jane@x.co.uk", "1,250.50 -3 75% 1990s 24/7 555-1234",
		"20°C 5km/h 16GB ½ ²", "a\x00b\u200bc", "—…“”", "12:60 99/99/9999 2026-13-45", "#1 @x &", "'90s'", "-.5", "$-.",
		"1.2.3.4.5", "Nov 31st, Sept. 2026", "w/o", "<a href=x>y</a>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := CleanText(in)
		if err != nil {
			if fault.KindOf(err) != fault.Invalid {
				t.Fatalf("CleanText(%q): %v, want kind Invalid", in, err)
			}
			return
		}
		if !utf8.ValidString(out) || out == "" || out != strings.TrimSpace(out) || strings.Contains(out, "  ") {
			t.Fatalf("CleanText(%q) = %q: empty, invalid or badly spaced", in, out)
		}
		rs := []rune(out)
		for i, r := range rs {
			letter := func(k int) bool { return k >= 0 && k < len(rs) && isASCIILetter(rs[k]) }
			switch {
			case isASCIILetter(r), r == ' ':
			case r == '\'' || r == '-':
				if !letter(i-1) || !letter(i+1) {
					t.Fatalf("CleanText(%q) = %q: %q at %d not within a word", in, out, r, i)
				}
			case strings.ContainsRune(".,!?;:", r):
				if i == 0 || rs[i-1] == ' ' || i+1 < len(rs) && rs[i+1] != ' ' {
					t.Fatalf("CleanText(%q) = %q: %q at %d not after a word and before a space", in, out, r, i)
				}
			default:
				t.Fatalf("CleanText(%q) = %q: unsafe character %q at %d", in, out, r, i)
			}
		}
		if _, err := CleanText(out); err != nil {
			t.Fatalf("CleanText(%q) = %q, which does not clean: %v", in, out, err)
		}
	})
}
