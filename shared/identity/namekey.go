package identity

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Team names are stored in NFKC and compared by TeamNameKey (issue 7,
// finding 10). NFKC rather than NFC: NFC only joins "e"+U+0301 into "é",
// while the look-alikes that matter here are compatibility characters —
// fullwidth "Ｏｒｇａｎｉｚａｔｉｏｎ", mathematical "𝐎rganization", the
// ligature "ﬁ" — which NFC keeps distinct and NFKC folds to the letters
// they render as. The cost is that a name is stored as its NFKC form (an
// administrator who types fullwidth letters reads them back as ASCII),
// which for a team name is what one wants. Only the team create, update
// and by-name lookup paths reach this file, so binaries that never handle
// a team name (the run workflow's) do not link the normalisation tables.

// canonicalTeamName returns a name as it is stored: NFKC, trimmed, with
// runs of spaces collapsed to one (two names that differ only there render
// alike).
func canonicalTeamName(s string) string {
	return strings.Join(strings.Fields(norm.NFKC.String(s)), " ")
}

// TeamNameKey returns the key team names are unique by and looked up by:
// the canonical name in lower case, with the non-ASCII letters that render
// like an ASCII letter replaced by it, so that an all-Cyrillic "Орс" and
// the Latin "Opc" cannot both exist. ASCII is left as is (beyond lower
// case): folding l/I/1 or O/0 would refuse ordinary names ("team1" beside
// "teaml") and change the key of every stored name, whose keys are the
// lower-cased name today. Mixed-script names are refused outright by
// validateTeam, so the map only has to cover whole-script look-alikes.
func TeamNameKey(name string) string {
	s := strings.ToLower(canonicalTeamName(name))
	var b strings.Builder
	for _, r := range s {
		if a, ok := latinLookalike[r]; ok {
			b.WriteRune(a)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// latinLookalike maps lower-case Cyrillic, Greek and Armenian letters whose
// lower- or upper-case form renders like a Latin letter (after Unicode's
// confusables.txt, restricted to these scripts) to that letter. A letter
// whose two cases look like two different Latin letters (Greek Ν/ν, Υ/υ)
// is mapped by its lower case: one key per letter keeps names unique
// case-insensitively within their own script.
var latinLookalike = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'ë', 'з': '3', 'і': 'i', 'ї': 'ï', 'ј': 'j', 'к': 'k', 'м': 'm', 'н': 'h',
	'о': 'o', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'һ': 'h', 'ԁ': 'd', 'ԛ': 'q',
	'ԝ': 'w', 'ӏ': 'l', 'ь': 'b', 'ү': 'y',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'ζ': 'z', 'η': 'h', 'ι': 'i', 'κ': 'k', 'μ': 'm', 'ν': 'v', 'ο': 'o',
	'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'γ': 'y',
	// Armenian
	'օ': 'o', 'ս': 'u', 'հ': 'h', 'ո': 'n', 'ց': 'g', 'զ': 'q',
	// Latin letters that are not ASCII but render like an ASCII one
	'ı': 'i', 'ɡ': 'g', 'ɑ': 'a', 'ȷ': 'j',
}

// mixedScript reports whether s's letters and digits come from more than
// one script (runes of the Common and Inherited scripts — punctuation,
// ASCII digits, combining marks — count for none), so "Оrganization" with
// a Cyrillic О is refused. As in UTS #39's Highly Restrictive level, Latin
// may mix with the scripts written together with it: Han with Hiragana and
// Katakana (Japanese), with Hangul (Korean) or with Bopomofo.
func mixedScript(s string) bool {
	seen := map[string]bool{}
	for _, r := range s {
		if name := scriptOf(r); name != "" {
			seen[name] = true
		}
	}
	if len(seen) <= 1 {
		return false
	}
	for _, allowed := range [][]string{
		{"Latin", "Han", "Hiragana", "Katakana"},
		{"Latin", "Han", "Hangul"},
		{"Latin", "Han", "Bopomofo"},
	} {
		n := 0
		for _, a := range allowed {
			if seen[a] {
				n++
			}
		}
		if n == len(seen) {
			return false
		}
	}
	return true
}

// scriptOf returns the Unicode script of r, or "" for Common, Inherited and
// runes in no script.
func scriptOf(r rune) string {
	if r < 0x80 {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return "Latin"
		}
		return ""
	}
	for name, t := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && unicode.Is(t, r) {
			return name
		}
	}
	return ""
}

// invisible reports whether r renders as nothing although unicode.IsPrint
// accepts it: default-ignorable marks (U+034F COMBINING GRAPHEME JOINER),
// variation selectors, and the blank letters and symbols (Hangul fillers,
// U+2800 BRAILLE PATTERN BLANK) that make "Organization" + U+3164 look
// like "Organization".
func invisible(r rune) bool {
	switch r {
	case 0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800:
		return true
	}
	return unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Variation_Selector, r)
}
