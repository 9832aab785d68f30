// Package prompt reads a video's prompt and negative prompt once, into a
// Scene that the picture and the soundtrack are both planned from: the
// camera move, the light, the weather, what moves in the air and the
// picture, and the sources of sound. Reading once, with one vocabulary,
// one negation rule, one list of decoys and one reader of intensity, is
// what keeps them agreeing: "a street, without any rain" draws no rain
// and plays none, and "rainbow over the hills" has no rain anywhere.
//
// # Words
//
// Every word is matched whole, on text lower-cased with hyphens,
// underscores and typographic apostrophes made plain. One word may bring
// several things: "lake" is water that shimmers in the picture and the
// lapping of a lake in the sound; "storm" names heavy rain and implies
// wind; "forest" names trees that sway and the sound of leaves, and
// implies birds. What is implied is heard faintly and never drawn.
//
// # Negation
//
// "no", "not", "without", "never", "don't", "neither", "nor"... negate
// what follows them up to three words on in their clause ("without any
// rain"), "or" and "nor" carry a negation on ("neither rain nor snow"),
// and punctuation or "and", "but", "with", "then" end it ("rain but no
// thunder"); "-free" negates the word before it. A negation, or the
// thing's words in the negative prompt, refuses what the words name
// wherever else the prompt names it. Only the camera differs: the move
// the prompt asks for is the move (see Camera).
//
// # Decoys
//
// Phrases that hold a word of the vocabulary and mean something else are
// blanked before reading: "bird's eye view", "depth of field", "fire
// truck", "snow white", "storm trooper", "sea green", "glass of water",
// "lightning fast", "blazing sun", "frying pan", "tilt-shift". Words that
// merely contain one ("rainbow", "snowboard", "brainstorm") never match.
package prompt
