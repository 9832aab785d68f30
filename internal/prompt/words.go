package prompt

import (
	"regexp"
	"slices"
)

// thing is one thing a prompt can bring into the scene: weather, what
// moves in the air or the picture, a source of sound, a grade of light or
// a change of it. Every word of the vocabulary names or implies things;
// the Scene's sections are read from them.
type thing int

// The things. The weather, the sources of sound and what the picture
// moves are kept apart where one word means several: "lake" is water that
// shimmers and the lapping of a lake; "beach" only the sound of the sea.
const (
	rain thing = iota
	snow
	wind
	lightning // with its thunder

	dust
	embers
	fireflies
	petals
	fog
	rays
	water
	clouds
	foliage
	hair
	flare
	particles // the particles as such: "particles" in a negative prompt

	sea
	stream
	city
	forest
	birds
	insects
	fire
	crowd
	room
	audio // sound itself: "no sound" refuses it
	hush  // "silent": all of it quiet

	goldenHour // the grades, in the order of Grade's bits
	dusk
	night
	moody
	neon
	vintage
	blackAndWhite
	highContrast

	sunSets // the changes of light over the clip
	nightFalls
	sunRises
	lightsComeOn

	numThings
)

// fact is one thing a word brings, with the intensity it has unless a
// modifier says otherwise. An implied thing is one the word suggests
// rather than names: "storm" names rain and implies wind. Negating a word
// refuses what it names, not what it implies: "rain but no thunder" keeps
// its rain.
type fact struct {
	thing   thing
	in      Intensity
	implied bool
}

func named(t thing) fact                       { return fact{thing: t} }
func namedAs(t thing, in Intensity) fact       { return fact{thing: t, in: in} }
func impliedAs(t thing, in Intensity) fact     { return fact{thing: t, in: in, implied: true} }
func is(re *regexp.Regexp, facts ...fact) term { return term{re: re, facts: facts} }

// term is a pattern of words and the things it brings. A whole term is
// read as one phrase: the words inside it say nothing on their own ("dust
// storm" is no rainstorm). A term that refuses things excludes them as a
// negation does ("windless", "soundless").
type term struct {
	re      *regexp.Regexp
	facts   []fact
	refuses []thing
	whole   bool
}

// vocabulary is every word the reader knows of weather, air, water,
// places, sound and light, run on normalized text. Verbs and nouns that
// are often something else are matched only in phrases: "waves" alone is
// as often a hand as the sea, "burning" as often the sun as a fire.
var vocabulary = []term{
	// Whole phrases first: they are blanked before the other terms read.
	{re: words(`dust storms?`, `sand ?storms?`), facts: []fact{namedAs(wind, Heavy), named(dust)}, whole: true},
	{re: words(`electrical storms?`, `lightning storms?`), facts: []fact{named(lightning), impliedAs(rain, Moderate)}, whole: true},
	{re: words(`forest fires?`, `burning (?:forests?|woods)`), facts: []fact{namedAs(fire, Heavy), named(embers), named(forest), named(foliage)}, whole: true},
	{re: words(`rain ?forests?`), facts: []fact{named(forest), named(foliage), impliedAs(birds, Moderate)}, whole: true},

	// Weather.
	is(words(`rain`, `rains`, `raining`, `rained`, `rainy`, `rainfall`, `raindrops?`, `rainwater`, `wet weather`),
		named(rain)),
	is(words(`drizzle`, `drizzles`, `drizzling`, `drizzly`, `sprinkling`, `spitting rain`),
		namedAs(rain, Light)),
	is(words(`downpours?`, `torrential`, `monsoons?`, `deluge`, `cloudbursts?`),
		namedAs(rain, Heavy)),
	is(words(`storms?`, `stormy`, `rainstorms?`, `tempests?`),
		namedAs(rain, Heavy), impliedAs(wind, Heavy)),
	is(words(`thunderstorms?`),
		namedAs(rain, Heavy), impliedAs(wind, Heavy), named(lightning)),
	is(words(`hurricanes?`, `typhoons?`, `cyclones?`),
		namedAs(wind, Heavy), impliedAs(rain, Heavy)),
	// "Thundering" and "thunderous" are loud, not thunder: "thundering
	// waves", "thunderous applause" (see heavyWords).
	is(words(`thunder`, `thunders`, `thunderclaps?`, `thunderbolts?`, `lightning`),
		named(lightning), impliedAs(rain, Moderate)),
	is(words(`snow`, `snows`, `snowing`, `snowed`, `snowy`, `snowfall`, `snowflakes?`),
		named(snow), impliedAs(wind, Light)),
	is(words(`flurries`), namedAs(snow, Light)),
	is(words(`blizzards?`, `snowstorms?`), namedAs(snow, Heavy), namedAs(wind, Heavy)),
	is(words(`wind`, `winds`, `windy`, `windswept`, `wind blown`, `wind swept`, `gusts?`, `gusty`, `gusting`, `blustery`),
		named(wind)),
	is(words(`breeze`, `breezes`, `breezy`), namedAs(wind, Light)),
	is(words(`gales?`, `windstorms?`, `wind storms?`, `tornado(?:e?s)?`, `twisters?`), namedAs(wind, Heavy)),
	{re: words(`windless`, `still air`), refuses: []thing{wind}},
	is(words(`deserts?`, `dunes?`, `mountains?`, `mountaintops?`, `summits?`, `cliffs?`, `canyons?`, `tundra`,
		`prairies?`, `plains`, `steppes?`, `glaciers?`, `hilltops?`),
		impliedAs(wind, Light)),

	// What moves in the air.
	is(words(`dust`, `dusty`, `motes`, `dust motes`, `pollen`), named(dust)),
	is(words(`sparks?`), named(embers)),
	is(words(`fireflies`, `firefly`, `glowing bugs`, `will o the wisps?`), named(fireflies)),
	is(words(`petals?`, `cherry blossoms?`, `sakura`, `falling leaves`, `leaves falling`, `blossoms falling`), named(petals)),
	is(words(`fog`, `foggy`, `haze`, `hazy`, `smog`, `fumes`), named(fog)),
	is(words(`mist`, `misty`, `smoke`, `smoky`), named(fog), named(clouds)),
	is(words(`light rays`, `rays of (?:light|sun|sunlight)`, `god rays`, `sunbeams?`, `sun beams?`, `crepuscular rays`,
		`volumetric light(?:ing)?`, `shafts of light`, `light shafts`), named(rays)),
	is(words(`clouds?`, `cloudy`, `sky`, `skies`), named(clouds)),
	{re: words(`cloudless`), refuses: []thing{clouds}},
	is(words(`lens flares?`, `sun flares?`, `anamorphic`, `flares?`), named(flare)),
	is(words(`particles?`, `particle effects?`), named(particles)),

	// Foliage and hair that move in the wind.
	is(words(`leaves`, `leafy`, `foliage`, `grass`, `grasses`, `grassy`, `bushes`, `branches`, `palms?`, `palm trees?`,
		`wheat`, `reeds`, `sway`, `sways`, `swaying`, `moving (?:trees|leaves|foliage)`), named(foliage)),
	is(words(`hair blowing`, `blowing hair`, `flowing hair`, `hair flowing`, `hair in the wind`, `billowing`, `fluttering`,
		`hair (?:movement|motion)`, `moving hair`, `cloth (?:movement|motion)`), named(hair)),

	// Water.
	is(words(`seas?`, `oceans?`, `sea waves?`, `ocean waves?`,
		`(?:crashing|breaking|rolling|big|huge|white|tall|giant) waves`, `waves (?:crash|crashing|break|breaking|roll|rolling|lapping|wash|washing)`),
		named(sea), named(water)),
	is(words(`surf`, `surfing`, `surfers?`, `seaside`, `seashore`, `beach`, `beaches`, `shore`, `shoreline`, `coast`, `coastal`,
		`coastline`, `tides?`, `bay`),
		named(sea)),
	is(words(`lakes?`, `ponds?`, `lagoons?`, `(?:gentle|small|little|calm) waves`), namedAs(sea, Light), named(water)),
	is(words(`lakeside`, `lakeshore`, `harbou?rs?`, `marinas?`, `piers?`, `docks?`, `coves?`, `lapping`), namedAs(sea, Light)),
	is(words(`seagulls?`, `gulls?`, `lighthouses?`, `sailboats?`, `sailing`), impliedAs(sea, Moderate)),
	is(words(`rivers?`), named(stream), named(water)),
	is(words(`brooks?`, `creeks?`, `riverbank`, `riverside`, `running water`, `flowing water`, `babbling`,
		`(?:a|the|mountain|forest|small|little|rushing|shallow|clear|rocky|winding) stream`,
		`stream (?:of water|flows|flowing|runs|running|bed|bank)`),
		named(stream)),
	is(words(`waterfalls?`, `rapids`, `cascades?`, `white water`, `whitewater`), namedAs(stream, Heavy)),
	is(words(`fountains?`, `trickle`, `trickles`, `trickling`), namedAs(stream, Light)),
	is(words(`water`, `waters`), named(water)),

	// Places.
	is(words(`city`, `cities`, `cityscape`, `streets?`, `downtown`, `urban`, `traffic`, `metropolis`, `skyscrapers?`,
		`avenues?`, `boulevards?`, `intersections?`, `sidewalks?`, `crosswalks?`, `highways?`, `freeways?`, `motorways?`,
		`cars`, `taxis?`, `cabs`, `buses`, `rush hour`, `traffic jam`, `times square`, `shibuya`),
		named(city)),
	is(words(`town`, `towns`, `village`, `villages`, `alleys?`, `alleyways?`, `suburbs?`, `suburban`, `neighbou?rhood`),
		namedAs(city, Light)),
	is(words(`(?:town|city|market|village) squares?`, `piazza`, `plaza`),
		namedAs(city, Light), impliedAs(crowd, Light)),
	is(words(`forests?`, `woods`, `woodlands?`, `jungles?`, `rainforests?`, `trees`, `tree`, `groves?`, `orchards?`,
		`treetops?`, `canopy`),
		named(forest), impliedAs(birds, Moderate), named(foliage)),
	is(words(`meadows?`, `grassland`),
		namedAs(forest, Light), impliedAs(birds, Light), named(foliage)),
	is(words(`gardens?`, `parks?`, `(?:a|the|open|green|grass|wheat|corn|flower|rice|poppy|lavender|sunflower) fields?`,
		`fields of`, `countryside`, `farms?`, `farmland`, `vineyards?`, `valleys?`, `hills`, `nature`),
		namedAs(forest, Light), impliedAs(birds, Light)),
	is(words(`birds?`, `birdsong`, `songbirds?`, `birdcalls?`, `sparrows?`, `robins?`, `larks?`, `nightingales?`, `dawn chorus`),
		named(birds)),
	is(words(`crickets?`, `cicadas?`, `insects`, `katydids?`, `frogs?`), named(insects)),
	is(words(`starry`, `starlit`), impliedAs(insects, Light)),
	is(words(`fire`, `fires`, `flames?`, `flaming`, `campfires?`, `fireplaces?`, `hearth`, `firepit`, `fire pit`,
		`burning (?:logs?|wood|firewood)`),
		named(fire), named(embers)),
	is(words(`embers?`, `fireside`, `smoldering`, `smouldering`), namedAs(fire, Light), named(embers)),
	is(words(`bonfires?`, `blaze`, `blazing`, `wildfires?`, `inferno`, `burning (?:house|building|city|car|ship)`),
		namedAs(fire, Heavy), named(embers)),
	is(words(`crowds?`, `crowded`, `audience`, `spectators`, `markets?`, `marketplace`, `bazaars?`, `festivals?`, `carnival`,
		`party`, `parties`, `train station`, `railway station`, `airports?`, `weddings?`, `banquet`, `cafeteria`,
		`people talking`, `chatter`, `chattering`, `many people`, `lots of people`, `shopping mall`, `mall`),
		named(crowd)),
	is(words(`cafes?`, `coffee shops?`, `restaurants?`, `pubs?`, `taverns?`, `diners?`, `lobby`, `bistro`),
		namedAs(crowd, Light)),
	is(words(`stadiums?`, `arenas?`, `concerts?`, `cheering`, `cheers`, `applause`),
		namedAs(crowd, Heavy)),
	is(words(`room`, `rooms`, `indoors`, `indoor`, `interior`, `bedroom`, `bathroom`, `office`, `library`, `studio`,
		`kitchen`, `hallway`, `corridor`, `museum`, `gallery`, `apartment`, `church`, `cathedral`, `attic`, `classroom`),
		named(room)),

	// Sound itself. "No sound", "without audio" and a negative "sound"
	// refuse it; "muted" alone is mostly about colours.
	is(words(`sounds?`, `audio`, `ambience`, `ambient (?:sound|sounds|noise|audio)`,
		`background (?:sound|sounds|noise|audio)`, `soundtrack`), named(audio)),
	{re: words(`soundless`, `sound off`, `(?:sound|audio) muted`, `muted (?:sound|audio)`), refuses: []thing{audio}},
	is(words(`silent`, `silently`, `silence`, `hushed`, `noiseless`), named(hush)),

	// Light: the grades, and the phrases that change the light over the
	// clip. Night is also the time of crickets.
	is(words(`golden hour`, `golden light`, `sunset`, `sundown`, `sunrise`, `warm (?:evening|afternoon|morning) (?:light|sun)`,
		`magic hour`), named(goldenHour)),
	is(words(`dusk`, `twilight`, `blue hour`, `after sunset`), named(dusk)),
	is(words(`night`, `nights`, `nighttime`, `at night`, `moonlight`, `moonlit`, `midnight`),
		named(night), impliedAs(insects, Light)),
	is(words(`moody`, `gloomy`, `brooding`, `somber`, `sombre`, `melancholic`, `noir`, `overcast`, `ominous`), named(moody)),
	is(words(`neon`, `neon lit`, `neon lights?`, `synthwave`, `vaporwave`), named(neon)),
	is(words(`vintage`, `retro`, `old film`, `faded`, `nostalgic`, `70s`, `1970s`, `sepia`), named(vintage)),
	is(words(`black and white`, `black & white`, `b&w`, `monochrome`, `grayscale`, `greyscale`), named(blackAndWhite)),
	is(words(`high contrast`, `contrasty`, `punchy`, `dramatic lighting`, `chiaroscuro`), named(highContrast)),
	is(words(`sun (?:sets|setting|goes down|going down|sinks|sinking)`, `sets? the sun`, `day turns? (?:in)?to dusk`, `evening falls`),
		named(sunSets)),
	is(words(`night (?:falls|falling|comes|sets in)`, `darkness falls`, `(?:getting|grows|growing|turns) dark`, `day turns? (?:in)?to night`),
		named(nightFalls)),
	is(words(`sun (?:rises|rising|comes up|coming up)`, `dawn breaks`, `day breaks`, `night turns? (?:in)?to day`),
		named(sunRises)),
	is(words(`lights? (?:up|come on|turn on)`, `neon (?:flickers|comes) on`), named(lightsComeOn)),
}

var (
	// farWords and nearWords say how far lightning is.
	farWords  = []string{"distant", "far", "faraway", "remote", "horizon", "faint", "faintly", "low", "rumbling", "rolling"}
	nearWords = []string{"close", "near", "nearby", "overhead", "strike", "strikes", "striking", "struck", "bolt", "bolts",
		"loud", "deafening", "violent", "huge", "massive", "crack", "cracks", "cracking", "crashing", "booming", "fierce", "intense"}
)

// Distance is how far away lightning is said to be.
type Distance int

// The distances. The zero Distance is Unsaid.
const (
	Unsaid Distance = iota
	Far             // "distant thunder", "lightning on the horizon"
	Near            // "lightning strikes", "thunder overhead"
)

// String returns the distance in words, or "" when unsaid.
func (d Distance) String() string {
	switch d {
	case Far:
		return "distant"
	case Near:
		return "near"
	}
	return ""
}

// distance reads how far the lightning of the words at p.text[start:end]
// is, from them and the four words each side in their clause.
func distance(p passage, start, end int) Distance {
	near, far := false, false
	for _, w := range nearby(p, start, end, 4) {
		near = near || slices.Contains(nearWords, trim(w.raw))
		far = far || slices.Contains(farWords, trim(w.raw))
	}
	switch {
	case near:
		return Near
	case far:
		return Far
	}
	return Unsaid
}
