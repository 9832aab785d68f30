package speech

import (
	"regexp"
	"strings"
)

// Web and e-mail addresses, matched on whole whitespace-separated fields
// without their surrounding punctuation. A bare domain needs a known
// top-level domain, so "e.g." or "end.Then" are not domains.
var (
	urlRE    = regexp.MustCompile(`(?i)^(?:https?://|ftp://|www\.)[^\s]+$`)
	emailRE  = regexp.MustCompile(`(?i)^[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}$`)
	domainRE = regexp.MustCompile(`(?i)^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|io|ai|co|dev|app|info|biz|me|tv|uk|us|de|fr|eu|ca|au|jp|in|nl|es|it|ch|se|xyz|gg|ly)(?:/[^\s]*)?$`)
)

// tlds says how to read top-level domains that are not words.
var tlds = map[string]string{
	"com": "com", "org": "org", "net": "net", "edu": "E D U", "gov": "gov", "io": "I O", "ai": "A I",
	"co": "co", "dev": "dev", "app": "app", "info": "info", "biz": "biz", "tv": "T V", "xyz": "X Y Z",
	"gg": "G G",
}

// tagRE matches markup tags such as "<b>" and "</a>", which are not read.
var tagRE = regexp.MustCompile(`</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>`)

// speakAddresses rewrites web and e-mail addresses in s as people say them:
// "https://www.example.com/shop?id=3" is "W W W dot example dot com slash
// shop", "jane.doe@mail.co.uk" is "jane dot doe at mail dot co dot U K". The
// scheme, query and fragment are not said.
func speakAddresses(s string) string {
	s = tagRE.ReplaceAllString(s, " ")
	fields := strings.Split(s, " ")
	for i, f := range fields {
		lead := len(f) - len(strings.TrimLeft(f, `("'<[`))
		core := strings.TrimLeft(f, `("'<[`)
		trimmed := strings.TrimRight(core, `)"'>],.;:!?`)
		// A path may end in "/" or a query in "?", which are not sentence marks.
		tail := core[len(trimmed):]
		var spoken string
		switch {
		case emailRE.MatchString(trimmed):
			local, domain, _ := strings.Cut(trimmed, "@")
			spoken = spellAddressPart(local) + " at " + spellHost(domain)
		case urlRE.MatchString(trimmed), domainRE.MatchString(trimmed):
			spoken = spellURL(trimmed)
		default:
			continue
		}
		fields[i] = f[:lead] + " " + spoken + " " + tail
	}
	return strings.Join(fields, " ")
}

// spellURL reads a web address: host and path, without scheme, port, query
// or fragment.
func spellURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	host, path, _ := strings.Cut(u, "/")
	if i := strings.IndexByte(host, '@'); i >= 0 { // user info
		host = host[i+1:]
	}
	host, _, _ = strings.Cut(host, ":")
	out := spellHost(host)
	for _, seg := range strings.Split(path, "/") {
		if seg != "" {
			out += " slash " + spellAddressPart(seg)
		}
	}
	return out
}

// spellHost reads a host name: labels joined by "dot", "www" and two-letter
// labels letter by letter.
func spellHost(host string) string {
	labels := strings.Split(strings.Trim(host, "."), ".")
	for i, l := range labels {
		lower := strings.ToLower(l)
		switch {
		case lower == "www":
			labels[i] = "W W W"
		case i == len(labels)-1 && tlds[lower] != "":
			labels[i] = tlds[lower]
		case lower == "co":
			labels[i] = "co"
		case len(l) <= 2 && strings.IndexFunc(l, isDigit) < 0:
			labels[i] = strings.Join(strings.Split(strings.ToUpper(l), ""), " ")
		default:
			labels[i] = spellAddressPart(l)
		}
	}
	return strings.Join(labels, " dot ")
}

// spellAddressPart reads a part of an address: separators as words, the rest
// left for expand (which reads numbers in it).
func spellAddressPart(s string) string {
	r := strings.NewReplacer(".", " dot ", "_", " underscore ", "-", " dash ", "+", " plus ",
		"~", " tilde ", "%", " percent ", "=", " equals ", "&", " and ")
	return r.Replace(s)
}
