"""Whether a text or a question is clearly in another language than English.

newsbot reads English only (its embedding model, reader, sentence splitter and stemmer are
English ones), so a French article stored, or a Spanish question asked, gets confident wrong
answers. No language model is needed to tell: English prose is about a quarter made of a few
function words ("the", "of", "and", "is") that other languages' prose lacks, and theirs ("le",
"der", "que") are as common there and rare in English. Text mostly in another script than
Latin (Cyrillic, Han, Arabic) is not English either. Both checks lean towards English: a page
or question is refused only when the evidence is overwhelming.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Function words that are English only: none is a common word of the languages below ("a",
# "in", "on", "an", "as", "do", "was", "will", "die", "so", "me", "no" are left out for that,
# and "over", Dutch for "about": "Wat zei de regering over Huawei?").
ENGLISH = _word_set(
    "the of and to is are were that this these those with for from by be been being "
    "have has had it its he she his her they them their we our you your which who whom whose "
    "what when where why how would could should can about after but or not than there said "
    "says also more into such only other just any many much did does"
)
# Each language's commonest function words that English text rarely holds.
OTHERS = {
    "French": "de le la les des du et est une un dans pour qui que pas sur au aux ce cette avec "
    "sont il elle nous vous ils mais ou leur été être sa ses où en quoi quand comment pourquoi "
    "quel quelle quels quelles combien qu l à dit ont",
    "Spanish": "de el los las del y es una por con para que se al lo como más pero su sus fue "
    "está están muy qué quién cuándo dónde cómo cuál cuántos ha han entre desde sobre quien "
    "donde cuando dijo",
    "German": "der die das und ist nicht ein eine einen den dem des mit von zu auf für sich "
    "auch es im werden wird sind wer wann wo wie warum welche hat haben dass oder bei nach",
    "Italian": "il lo gli della di che è non una sono con dei nel alla anche delle chi cosa "
    "quando perché quale ha questo questa più ma del",
    "Portuguese": "de os da das dos não em uma com para que é na mais pelo pela ao quem "
    "quando onde porque qual também foi são seu sua sobre",
    "Dutch": "de het een en van niet ook zijn dat op voor wat wie waar hoe waarom wanneer welke "
    "hoeveel zei zegt heeft hebben wordt werd hij zij wij geen naar bij uit aan deze dit nog "
    "maar moet zal",
    "Polish": "co kto czy jak gdzie kiedy dlaczego ile jaki jaka jakie który która które się "
    "nie jest są był była było będzie że na od po dla przez oraz jego jej ich już może",
    "Indonesian": "yang dan di ini itu dengan untuk dari tidak ke akan dalam pada adalah juga",
}
# Words that open a question in those languages ("Qui a gagné ?", "Co powiedział rząd?").
QUESTION_WORDS = _word_set(
    "qui que quoi où pourquoi comment quand quel quelle quels quelles combien "
    "qué quién cuándo dónde cómo cuál cuántos quien donde cuando "
    "wer wann wo warum welche chi cosa perché quale quem onde "
    "wat wie waar hoe waarom wanneer welke hoeveel co kto czy jak gdzie kiedy dlaczego"
)
# Letters with marks that these languages write and English words hardly ever do ("gagné",
# "powiedział", "über"); vowels with marks other languages use (Vietnamese) are not here.
MARKED_LETTERS = frozenset("àâçéèêëîïôùûœáíñóúüãõäößìòąćęłńśźż")
_WORDS_OF = {language: _word_set(words) for language, words in OTHERS.items()}
FOREIGN = frozenset().union(*_WORDS_OF.values())
# Particles of names ("Charles de Gaulle", "Ursula von der Leyen", "Los Angeles"): in an
# English question they say nothing of its language.
NAME_PARTICLES = _word_set(
    "de da di du des del della dos das la le les los las el al van von der den"
)
# Words that say as little in an English question: name particles, and Polish "co" ("what"),
# which is also "Co Op" and "Samsung Co". They count only after a question word, see below.
WEAK = NAME_PARTICLES | _word_set("co")
_TELLING = FOREIGN - WEAK

_WORD = re.compile(r"[^\W\d_]+")
# "co-op", "Jean-Claude", "est-ce": their parts are no function words of a question
_COMPOUND = re.compile(r"[^\W\d_]+(?:[-\u2010\u2011][^\W\d_]+)+")
_URL = re.compile(r"\S*(?:://|www\.)\S*")  # its words ("amzn.to") are no language's
MIN_PAGE_WORDS = 40  # fewer words are too few to judge a page by
# A page is in another language when that many of its words are function words of other
# languages for each English one (English prose: well under one in ten).
FOREIGN_PER_ENGLISH = 4
MIN_FOREIGN_SHARE = 0.08  # and those make up this share of its words (French prose: ~0.3)
MAX_ENGLISH_SHARE = 0.04  # and English function words this share at most (English: ~0.25)
OTHER_SCRIPT_SHARE = 0.5  # more of its letters than this in another script than Latin
MIN_QUESTION_WORDS = 2  # distinct foreign function words (not name particles) in a question


def words(text: str) -> list[str]:
    """The words of `text`, lower case; an apostrophe splits ("qu'est" is "qu", "est")."""
    return _WORD.findall(text.lower())


def other_script(text: str) -> str:
    """What most letters of `text` are written in when that is not the Latin alphabet
    ("Korean", "Chinese", "Japanese", "Cyrillic script"), else ''."""
    scripts: Counter[str] = Counter(_script(char) for char in text if char.isalpha())
    total = sum(scripts.values())
    if not total:
        return ""
    others = total - scripts.pop("Latin", 0)
    if others <= OTHER_SCRIPT_SHARE * total:
        return ""
    if scripts["Hangul"]:
        return "Korean"
    if scripts["Kana"]:  # Japanese writes with Han characters and kana
        return "Japanese"
    script = scripts.most_common(1)[0][0]
    return "Chinese" if script == "Han" else f"{script} script"


def text_language(text: str) -> str:
    """The language `text` is clearly written in when that is not English ("French", or
    "Cyrillic script" for a text mostly in another script), '' when it is English or not
    clearly anything else."""
    if script := other_script(text):
        return script
    found = words(_URL.sub(" ", text))
    if len(found) < MIN_PAGE_WORDS:
        return ""
    english = sum(1 for w in found if w in ENGLISH)
    foreign = [w for w in found if w in FOREIGN]
    if (
        len(foreign) >= FOREIGN_PER_ENGLISH * max(english, 1)
        and len(foreign) >= MIN_FOREIGN_SHARE * len(found)
        and english <= MAX_ENGLISH_SHARE * len(found)
    ):
        return _likeliest(foreign)
    return ""


def not_english(text: str) -> str:
    """Why a page with this text is not stored when it is clearly not in English, else ''."""
    if language := text_language(text):
        return f"an article in {language}, not English (newsbot reads English only)"
    return ""


def question_language(question: str) -> str:
    """The language `question` is clearly asked in when that is not English ("French"), else
    '': none of its words is an English function word, and either several different words are
    other languages' function words (name particles such as "de" and "la" aside), or it opens
    with another language's question word and has a lower-case word with marked letters
    ("gagné"). "Qui est le président ?" and "Qui a gagné ?" are French; "Who is Ursula von der
    Leyen?", "Jean de la Fontaine" and "Que Sera Sera lyrics" are not."""
    if any(w.lower() in ENGLISH for w in _no_acronyms(question)):
        return ""
    found = _no_acronyms(_COMPOUND.sub(" ", question))  # "co-op": no function words
    telling = [w.lower() for w in found if w.lower() in _TELLING]
    if len(set(telling)) >= MIN_QUESTION_WORDS:
        return _likeliest(telling)
    opening = found[0].lower() if found and found[:1] == _WORD.findall(question)[:1] else ""
    marked = any(w.islower() and w not in FOREIGN and MARKED_LETTERS & set(w) for w in found)
    if opening not in QUESTION_WORDS or not marked:
        return ""
    return _likeliest(telling if opening in telling else [opening, *telling])


def _no_acronyms(text: str) -> list[str]:
    """The words of `text` but its acronyms: "UN" or "IL" is no function word."""
    return [w for w in _WORD.findall(text) if len(w) == 1 or not w.isupper()]


def _likeliest(found: list[str]) -> str:
    """The language most of these function words are of; two on a tie ("Spanish or
    Portuguese": "que" and "sobre" are both's)."""
    counts = Counter(language for w in found for language, known in _WORDS_OF.items() if w in known)
    ranked = counts.most_common(2)
    if len(ranked) == 2 and ranked[0][1] == ranked[1][1]:
        return f"{ranked[0][0]} or {ranked[1][0]}"
    return ranked[0][0]


def _script(char: str) -> str:
    """The script of a letter, from its Unicode name ("CYRILLIC SMALL LETTER A": Cyrillic)."""
    name = unicodedata.name(char, "LATIN")
    if "LATIN" in name:  # fullwidth Latin letters too
        return "Latin"
    first = name.split(" ", 1)[0]
    if first in ("HIRAGANA", "KATAKANA"):
        return "Kana"
    return "Han" if first == "CJK" else first.capitalize()
