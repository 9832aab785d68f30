// Package billing prices generations in credits. $1 buys CreditsPerUSD
// credits; prices are configuration.
package billing

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

// Cost returns the credits for a clip of the given resolution and duration
// that speaks speech.
func (p Prices) Cost(resolution string, seconds int, speech string) int64 {
	c := p.PerSecond[resolution] * int64(seconds)
	if n := len(speech); n > 0 && p.SpeechChunk > 0 {
		c += p.Speech * int64((n+p.SpeechChunk-1)/p.SpeechChunk)
	}
	return c
}

// USD converts credits to dollars.
func USD(credits int64) float64 { return float64(credits) / CreditsPerUSD }
