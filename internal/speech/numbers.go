package speech

import (
	"strconv"
	"strings"
)

var (
	ones = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
		"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	tens   = []string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
	scales = []string{"", "thousand", "million", "billion", "trillion"}
)

// maxCardinal is the largest number cardinal reads as one number; longer
// digit strings are read digit by digit, as people read codes.
const maxCardinal = 999_999_999_999_999

// cardinal returns n in words, American style: 1250 is "one thousand two
// hundred fifty", 21 is "twenty-one" (with hyphenMark for the hyphen, as
// all the number words here).
func cardinal(n uint64) string {
	if n < 20 {
		return ones[n]
	}
	var parts []string
	for i := len(scales) - 1; i >= 0; i-- {
		unit := uint64(1)
		for range i {
			unit *= 1000
		}
		if n/unit%1000 == 0 {
			continue
		}
		parts = append(parts, under1000(n/unit%1000))
		if scales[i] != "" {
			parts = append(parts, scales[i])
		}
	}
	return strings.Join(parts, " ")
}

// under1000 returns 1 <= n <= 999 in words.
func under1000(n uint64) string {
	var parts []string
	if n >= 100 {
		parts = append(parts, ones[n/100], "hundred")
		n %= 100
	}
	switch {
	case n == 0:
	case n < 20:
		parts = append(parts, ones[n])
	case n%10 == 0:
		parts = append(parts, tens[n/10])
	default:
		parts = append(parts, tens[n/10]+string(hyphenMark)+ones[n%10])
	}
	return strings.Join(parts, " ")
}

// ordinal returns n as an ordinal in words: 21 is "twenty-first".
func ordinal(n uint64) string {
	c := cardinal(n)
	cut := strings.LastIndexByte(c, ' ') + 1
	if k := strings.LastIndex(c, string(hyphenMark)); k >= 0 && k+len(string(hyphenMark)) > cut {
		cut = k + len(string(hyphenMark))
	}
	head, last := c[:cut], c[cut:]
	switch last {
	case "one":
		last = "first"
	case "two":
		last = "second"
	case "three":
		last = "third"
	case "five":
		last = "fifth"
	case "eight":
		last = "eighth"
	case "nine":
		last = "ninth"
	case "twelve":
		last = "twelfth"
	default:
		if strings.HasSuffix(last, "y") {
			last = strings.TrimSuffix(last, "y") + "ieth"
		} else {
			last += "th"
		}
	}
	return head + last
}

// plural returns the plural of a number word or phrase's last word, as in
// "the nineteen nineties" or "in threes".
func plural(words string) string {
	switch {
	case strings.HasSuffix(words, "y"):
		return strings.TrimSuffix(words, "y") + "ies"
	case strings.HasSuffix(words, "x"):
		return words + "es"
	}
	return words + "s"
}

// year returns n (1000 <= n <= 2099) as a year is said: 1952 is "nineteen
// fifty-two", 2005 "two thousand five", 1900 "nineteen hundred", 1905
// "nineteen oh five", 2026 "twenty twenty-six".
func year(n uint64) string {
	hi, lo := n/100, n%100
	switch {
	case n%1000 == 0, n > 2000 && n < 2010:
		return cardinal(n)
	case lo == 0:
		return cardinal(hi) + " hundred"
	case lo < 10:
		return cardinal(hi) + " oh " + ones[lo]
	}
	return cardinal(hi) + " " + cardinal(lo)
}

// digitWords reads a string of ASCII digits one by one: "007" is "zero zero
// seven".
func digitWords(s string) string {
	words := make([]string, 0, len(s))
	for _, c := range s {
		if c >= '0' && c <= '9' {
			words = append(words, ones[c-'0'])
		}
	}
	return strings.Join(words, " ")
}

// number reads a number as written, with optional thousands separators and
// decimals ("1,250", "3.5", "0.25"): a cardinal, then "point" and the
// decimals digit by digit. Integers with leading zeros ("007") or too long
// for cardinal are read digit by digit.
func number(s string) string {
	s = strings.ReplaceAll(s, ",", "")
	whole, frac, hasFrac := strings.Cut(s, ".")
	var out string
	switch n, err := strconv.ParseUint(whole, 10, 64); {
	case whole == "":
		out = ""
	case err != nil || n > maxCardinal || len(whole) > 1 && whole[0] == '0' && !hasFrac:
		out = digitWords(whole)
	default:
		out = cardinal(n)
	}
	if hasFrac && frac != "" {
		out = strings.TrimSpace(out + " point " + digitWords(frac))
	}
	return out
}

// integer parses s, ASCII digits with optional thousands separators, as a
// number cardinal can read.
func integer(s string) (uint64, bool) {
	n, err := strconv.ParseUint(strings.ReplaceAll(s, ",", ""), 10, 64)
	return n, err == nil && n <= maxCardinal
}
