// Package ambience makes the sound of the place in a video: rain, wind,
// surf, a street, a forest, a fire, a crowd, or the air of a quiet room,
// synthesized from the prompt and the seed, with thunder on the frame of a
// lightning flash. Nothing is sampled: every sound is a small procedural
// recipe in pure Go, so nothing ships but code and no two clips repeat.
//
// # Use
//
// The engine reads the prompt once (package prompt), plans a scene from
// what it says, asks for the lightning that the renderer will draw, and
// renders the track:
//
//	sc := prompt.Read(req.Prompt, req.NegativePrompt)
//	scene := ambience.Plan(sc)
//	scene.Events = ambience.Lightning(sc, length, req.Seed)
//	// Draw each flash on frame e.Frame(fps).
//
//	track := ambience.Render(scene, length, req.Seed, false) // no speech
//
//	voice := speech.Track(audio, speech.Lead, length) // with speech
//	track = ambience.Mix(voice, ambience.Render(scene, length, req.Seed, true))
//
// Render returns mono int16 at SampleRate (48 kHz, as speech), exactly as
// many samples as speech.Track for the same length. Everything is
// deterministic: the same prompt, length and seed give the same samples.
// Rendering 8 s takes 10 to 40 ms on one core.
//
// # Levels
//
// A scene alone is at Target, -23 LUFS integrated (EBU R128's programme
// level: clearly audible, not loud), a few LU lower for light scenes
// ("drizzle", "a gentle breeze") and higher for heavy ones. Under speech it
// is a bed 15 LU lower (BedTarget, -38 LUFS, 22 LU under the voice's
// -16), and Mix ducks it by a further 6 dB while the voice speaks. Peaks
// stay at or under Ceiling, -1 dBFS; clips fade in and out over 50 ms.
// Loudness is measured as ITU-R BS.1770-4, the same as speech.Loudness and
// ffmpeg's ebur128 filter.
//
// When the prompt says nothing about sound the scene is Room tone, at
// RoomTarget (-45 LUFS): not digital silence, which sounds like a fault,
// but the faint air that film editors lay under stillness. Only a prompt
// that asks ("no sound", "no audio") or a negative prompt that refuses
// sound ("sound", "audio", "ambience") gets true silence.
//
// # Words
//
// Plan listens for words of place and weather, as package prompt reads
// them; a few for each kind (prompt's vocabulary has them all):
//
//	Rain    rain, raining, drizzle (light), downpour, torrential (heavy),
//	        storm, thunderstorm (heavy, with wind), thunder, lightning
//	Wind    wind, windy, gusts, breeze (light), gale, blizzard, tornado,
//	        hurricane (heavy); desert, mountain, cliff, snow (implied)
//	Sea     sea, ocean, surf, beach, shore, coast, crashing waves; lake,
//	        harbour, pier, calm waves (light); seagulls, lighthouse
//	Stream  river, brook, creek, running water, "a mountain stream";
//	        waterfall, rapids (heavy); fountain, trickling (light)
//	City    city, street, downtown, traffic, highway, cars, rush hour;
//	        town, village, alley (light); town square (with a crowd)
//	Forest  forest, woods, jungle, trees; garden, park, meadow, field,
//	        countryside (light); birds come with them by day
//	Birds   birds, birdsong, songbirds, dawn chorus
//	Night   crickets, cicadas, insects, frogs; night, moonlit (implied)
//	Fire    fire, flames, campfire, fireplace, hearth; embers (light);
//	        bonfire, blaze, wildfire, inferno (heavy)
//	Crowd   crowd, market, festival, party, airport, chatter; café,
//	        restaurant, pub (light); stadium, cheering, applause (heavy)
//	Room    room, indoors, bedroom, office, library, studio, church
//
// Modifiers in the same clause set the intensity ("heavy rain", "a gentle
// breeze", "waves crashing", "a busy street"); a negation excludes a kind
// ("no rain", "without wind", "not raining"), as does naming it in the
// negative prompt. See prompt.Read and Plan for the rules.
//
// # Recipes
//
// Each kind is filtered noise shaped by slow random motion, with
// events scattered in it by Poisson processes: rain is a band-passed hiss
// with thousands of drop clicks and the rising ring of near drops; wind a
// band-pass that moves with gusts and howls when heavy; sea brown noise
// swelling with waves every 6 to 12 s and foam hiss after each crest; a
// stream dense bubbles; a city a rumble, passing cars with their Doppler
// drop and far-off horns; a forest leaves in the wind; birds seeded
// species of FM whistles; night crickets; fire a flickering roar with
// crackles and pops; a crowd the murmur of many and a few talkers made of
// a buzz and two moving formants; a room faint pink air without hum.
// Thunder is a crack of broadband bursts that starts on the flash's first
// sample, then a low rumble that rolls for 2 to 4 s after a delay that
// grows with distance.
package ambience
