"""Telling English from other languages by their function words: a page or a question clearly
in French, German or Russian is named as such; English with foreign names and quotes is not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.ingest.extract import decode_html, extract_article
from bot.language import (
    ENGLISH,
    FOREIGN,
    NAME_PARTICLES,
    QUESTION_WORDS,
    question_language,
    text_language,
)

DATA = Path(__file__).resolve().parent / "data"
REPO = DATA.parent.parent

FRENCH = (
    "Les tarifs du ferry entre Port Ellery et l'île de Skerry augmenteront de onze pour cent "
    "en avril, a annoncé mardi la compagnie Skerry Lines. La compagnie explique cette hausse "
    "par le prix du carburant, qui a doublé en deux ans selon elle. Les habitants de l'île, "
    "qui dépendent du ferry pour leurs courses et pour se rendre au travail, se disent "
    "inquiets. Le maire a demandé une réunion avec la direction avant la fin du mois."
)
SPANISH = (
    "El Gobierno de España aprobó este martes un nuevo plan para reducir el precio de la "
    "electricidad, que ha subido más de un treinta por ciento desde enero. La ministra dijo "
    "que las medidas estarán en vigor hasta el final del año y que los hogares con menos "
    "ingresos recibirán una ayuda directa. Los empresarios, sin embargo, consideran que el "
    "plan llega tarde y pidieron una reunión con el presidente del Gobierno."
)
GERMAN = (
    "Die Bundesregierung hat am Dienstag ein neues Gesetz zum Schutz der Wälder beschlossen. "
    "Nach Angaben des Ministeriums sollen die Länder in den kommenden Jahren mehr Geld für die "
    "Aufforstung bekommen, und die Kontrollen werden verschärft. Umweltverbände begrüßten den "
    "Entwurf, kritisierten aber, dass er zu spät komme und nicht weit genug gehe. Der Bundestag "
    "soll im Herbst über das Gesetz abstimmen."
)
ENGLISH_WITH_FOREIGN = (
    "President Emmanuel Macron told reporters in Paris that « la France ne cédera pas » and "
    "that the talks with La France insoumise would go on. Jean-Luc Mélenchon, who leads the "
    "party, said the government had not listened to the unions. The Conseil d'État is "
    "expected to rule on the pension reform before the end of the month, and the Assemblée "
    "nationale will vote on it again in June, according to Le Monde and Les Échos."
)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (FRENCH, "French"),
        (SPANISH, "Spanish"),
        (GERMAN, "German"),
        ("Правительство объявило о новых мерах поддержки экономики. " * 6, "Cyrillic script"),
        ("정부는 화요일 새로운 경제 지원 대책을 발표했다. " * 6, "Korean"),
        ("政府は火曜日、新しい経済対策を発表した。" * 6, "Japanese"),
    ],
)
def test_a_text_in_another_language_is_named(text: str, language: str) -> None:
    assert text_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        ENGLISH_WITH_FOREIGN,
        # Short, or mostly names and numbers: too little to judge, so English.
        "Le Monde, Die Zeit, El País",
        "Kyle Busch 5040 Martin Truex Jr. 5035 Kevin Harvick 5033 Denny Hamlin 5029 " * 5,
        # A few lines of Russian in an English story do not make it Russian.
        ENGLISH_WITH_FOREIGN + " The Kremlin replied: «Мы не согласны».",
    ],
)
def test_english_with_foreign_names_and_quotes_is_english(text: str) -> None:
    assert text_language(text) == ""


def test_english_and_foreign_function_words_do_not_overlap() -> None:
    assert not ENGLISH & FOREIGN
    assert NAME_PARTICLES <= FOREIGN
    assert QUESTION_WORDS <= FOREIGN


def test_every_article_we_ship_or_test_with_reads_as_english() -> None:
    found = {}
    for path in [*(REPO / "corpus").rglob("*"), *DATA.glob("*/corpus/**/*")]:
        if path.suffix in (".txt", ".md"):
            found[path] = text_language(path.read_text(encoding="utf-8"))
    for path in (DATA / "site").glob("*.html"):
        found[path] = text_language(extract_article(decode_html(path.read_bytes())).text)
    assert len(found) > 60
    assert {str(p.relative_to(REPO)): lang for p, lang in found.items() if lang} == {}


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Qu'est-ce que le président a dit ?", "French"),
        ("Combien de morts en France ?", "French"),
        ("¿Quién es el presidente de Francia?", "Spanish"),
        ("Wer ist der Bundeskanzler?", "German"),
        ("Was hat die Kanzlerin gesagt?", "German"),
        ("Chi è il presidente del consiglio?", "Italian"),
        ("Quem é o presidente do Brasil?", "Portuguese"),
        # Short ones, with one listed function word after a question word, and Dutch and Polish
        ("Que dit le gouvernement ?", "French"),
        ("Qui a gagné ?", "French"),
        ("Wat zei de regering over Huawei?", "Dutch"),
        ("Waarom heeft de regering Huawei verboden?", "Dutch"),
        ("Co powiedział rząd o Huawei?", "Polish"),
        ("Kto wygrał wybory?", "Polish"),
        ("Co się stało w Gdańsku?", "Polish"),
    ],
)
def test_a_question_in_another_language_is_named(question: str, language: str) -> None:
    assert question_language(question) == language


ENGLISH_WITH_FOREIGN_WORDS = [
    "What did Emmanuel Macron say about la France insoumise?",
    "Who is Angela Merkel?",
    "what's the NHS?",
    "Who is Ursula von der Leyen?",
    "Jean de la Fontaine",
    "Les Misérables",
    "UN SE resolution vote",
    "Did Lula da Silva win in São Paulo?",
    "el nino 2019",
    "First para. Second para.",  # one foreign word, twice, is not several
    "Who is Ryan Ding?",
    "What did Ursula von der Leyen say?",
    "Who is Jean-Claude Juncker?",
    "Que Sera Sera lyrics",  # a question word, and nothing else of French
    "Where is Costa del Sol?",
    "Fight over Huawei?",
    "Co-op Bank profits",
    "Co Op bank profits",
    "Wat Arun temple",
    "Chi Onwurah",
    "Ile de France floods",
    "lech wałęsa",  # marked letters, and no question word
    "café con leche",
    "qui nhơn typhoon",
]


@pytest.mark.parametrize("question", ENGLISH_WITH_FOREIGN_WORDS)
def test_an_english_question_with_foreign_names_is_english(question: str) -> None:
    assert question_language(question) == ""


def test_no_question_of_our_question_sets_reads_as_another_language() -> None:
    asked = []
    for path in DATA.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line) if line.strip() else {}
            asked.append(record.get("question", ""))
            asked += [
                t.get(k, "") for t in record.get("turns", []) for k in ("typed", "standalone")
            ]
    assert len([q for q in asked if q]) > 1000
    assert [q for q in asked if question_language(q)] == []
