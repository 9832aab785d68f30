package speech

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"time"
)

// Word is one spoken word (or token, such as "$5" said as "five dollars")
// with its time span relative to the start of the speech audio. Text is the
// token as written, without surrounding punctuation, or "" when it could not
// be matched.
type Word struct {
	Text       string
	Start, End time.Duration
}

// wordVoice is the flite voice that finds word boundaries. It is a diphone
// voice, several times faster than the others, and shares their lexicon.
const wordVoice = "kal"

// wordGroups runs flite to find the words of text, for words.
//
// flite prints no word times, so a second, fast flite run speaks the text
// with " ... " between the tokens, which puts a pause between all of them
// without changing how a token reads (a comma would: "Dr., Smith" is "drive
// Smith"), and prints its phones (-ps): one group of phones per token.
// names holds the text of each group, when the groups pair up with the
// tokens that have a letter or digit (the others are silent); else nil. It
// does not need the timed phones, so it runs beside the synthesis.
func wordGroups(ctx context.Context, prog, text string) (groups [][]string, names []string) {
	tokens := strings.Fields(text)
	if len(tokens) == 0 {
		return nil, nil
	}
	args := []string{"-voice", wordVoice, "-ps", "-o", "none", "-t", strings.Join(tokens, " ... ")}
	cmd := exec.CommandContext(ctx, prog, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.WaitDelay = 2 * time.Second
	if cmd.Run() != nil {
		return nil, nil
	}
	for _, line := range strings.Split(out.String(), "\n") {
		var g []string
		for _, sym := range strings.Fields(line) {
			if IsPause(sym) {
				if len(g) > 0 {
					groups = append(groups, g)
				}
				g = nil
				continue
			}
			g = append(g, sym)
		}
		if len(g) > 0 {
			groups = append(groups, g)
		}
	}
	for _, tok := range tokens {
		if strings.IndexFunc(tok, isASCIIAlnum) >= 0 {
			names = append(names, strings.TrimFunc(tok, func(r rune) bool { return !isASCIIAlnum(r) }))
		}
	}
	if len(names) != len(groups) {
		names = nil
	}
	return groups, names
}

// words finds the words of text in phones, the timeline flite gave for it
// (or carried over from flite; see transfer), from wordGroups' groups:
// aligning the groups' phone sequence with the timed one (edit distance;
// the voices' phone sets and a few context-dependent readings differ) says
// which token each timed phone belongs to. It is best effort: with no
// groups, or a poor alignment, it returns nil.
func words(phones []Phone, groups [][]string, names []string) []Word {
	if len(groups) == 0 {
		return nil
	}
	return alignWords(phones, groups, names)
}

// alignWords assigns phones to word groups (see words) and returns the words'
// spans; names, if not nil, holds the text of each group. A pause phone
// always separates words. It returns nil if more than a quarter of the speech
// phones do not match.
func alignWords(phones []Phone, groups [][]string, names []string) []Word {
	var a []int // indices of the speech phones
	for i, p := range phones {
		if !IsPause(p.Symbol) {
			a = append(a, i)
		}
	}
	var b []string
	var group []int // group of each element of b
	for g, syms := range groups {
		for _, s := range syms {
			b = append(b, s)
			group = append(group, g)
		}
	}
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	// Levenshtein distance, then a walk back to pair a's phones with b's.
	n, m := len(a), len(b)
	d := make([][]int32, n+1)
	for i := range d {
		d[i] = make([]int32, m+1)
		d[i][0] = int32(i)
	}
	for j := range m + 1 {
		d[0][j] = int32(j)
	}
	for i := 1; i <= n; i++ {
		for j := 1; j <= m; j++ {
			sub := d[i-1][j-1]
			if phones[a[i-1]].Symbol != b[j-1] {
				sub++
			}
			d[i][j] = min(sub, d[i-1][j]+1, d[i][j-1]+1)
		}
	}
	if int(d[n][m])*4 > n {
		return nil
	}
	of := make([]int, n) // group of each speech phone; -1 if unpaired
	for i, j := n, m; i > 0; {
		switch {
		case j > 0 && d[i][j] == d[i-1][j-1]+cost(phones[a[i-1]].Symbol, b[j-1]):
			of[i-1] = group[j-1]
			i, j = i-1, j-1
		case d[i][j] == d[i-1][j]+1:
			of[i-1] = -1
			i--
		default:
			j--
		}
	}
	// An unpaired phone joins the word before it (or after, at the start).
	for i := range of {
		if of[i] < 0 && i > 0 {
			of[i] = of[i-1]
		}
	}
	for i := len(of) - 1; i >= 0; i-- {
		if of[i] < 0 && i+1 < len(of) {
			of[i] = of[i+1]
		}
	}

	var words []Word
	prevPhone, prevGroup := -2, -2
	for k, pi := range a {
		p := phones[pi]
		if pi == prevPhone+1 && of[k] == prevGroup {
			words[len(words)-1].End = p.End
		} else {
			w := Word{Start: p.Start, End: p.End}
			if names != nil && of[k] >= 0 {
				w.Text = names[of[k]]
			}
			words = append(words, w)
		}
		prevPhone, prevGroup = pi, of[k]
	}
	return words
}

func cost(x, y string) int32 {
	if x == y {
		return 0
	}
	return 1
}
