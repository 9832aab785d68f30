// Package billing prices generations in credits. $1 buys CreditsPerUSD
// credits; prices are configuration.
package billing

import "strings"

// CreditsPerUSD is the exchange rate of credits to US dollars.
const CreditsPerUSD = 2_000_000

// Prices are credits per second of video by resolution, plus the price of
// speech per started SpeechChunk bytes of text.
type Prices struct {
	// PerSecond maps a resolution to credits per second of video. Defaults
	// to 360p and 540p 63,000; 720p 84,000; 1080p 168,000.
	PerSecond map[string]int64
	// Speech is the price of one started SpeechChunk of speech text. Defaults
	// to 84,000.
	Speech int64
	// SpeechChunk is the size in UTF-8 bytes of one priced piece of speech
	// text. Defaults to 15.
	SpeechChunk int
	// PerVideo, if set, is the price of a video whose length is not known
	// at submit (a lip-sync keeps its input's length), in place of
	// PerSecond.
	PerVideo int64
	// Extras are credits per second of video for each option that costs
	// more when on, by name: "audio" (generated sound) and "multi_clip".
	Extras map[string]int64
}

// Usage is what a generation is priced by.
type Usage struct {
	Resolution string
	Seconds    int
	Speech     string   // the text spoken, priced per chunk
	Extras     []string // the options on (see Prices.Extras)
}

// Default returns the default prices (720p for 5 s = 420,000 credits, as the
// hosted service charges).
func Default() Prices {
	return Prices{
		PerSecond:   map[string]int64{"360p": 63_000, "540p": 63_000, "720p": 84_000, "1080p": 168_000},
		Speech:      84_000,
		SpeechChunk: 15,
	}
}

// Cost returns the credits for the usage u.
func (p Prices) Cost(u Usage) int64 {
	c := p.PerSecond[u.Resolution] * int64(u.Seconds)
	if p.PerVideo > 0 {
		c = p.PerVideo
	}
	for _, e := range u.Extras {
		c += p.Extras[e] * int64(u.Seconds)
	}
	if n := len(u.Speech); n > 0 && p.SpeechChunk > 0 {
		c += p.Speech * int64((n+p.SpeechChunk-1)/p.SpeechChunk)
	}
	return c
}

// The hosted models priced unlike image-to-video.
const (
	hostedV55     = "pixverse/v5.5/"
	hostedLipSync = "pixverse/lip-sync"
)

// ForModel returns the prices of the hosted model id on the rate card base:
// a lip-sync is priced per video, at base's price of 5 s of 720p, since its
// length is its input's; v5.5's generated sound and multi-clip cost a
// quarter of base's 720p rate per second each. Prices base sets already
// are kept. Other models are priced by base as it is.
func ForModel(model string, base Prices) Prices {
	p := base
	switch {
	case model == hostedLipSync && p.PerVideo == 0:
		p.PerVideo = 5 * base.PerSecond["720p"]
	case strings.HasPrefix(model, hostedV55) && p.Extras == nil:
		r := base.PerSecond["720p"] / 4
		p.Extras = map[string]int64{"audio": r, "multi_clip": r}
	}
	return p
}

// USD converts credits to dollars.
func USD(credits int64) float64 { return float64(credits) / CreditsPerUSD }
