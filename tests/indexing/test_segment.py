"""Sentence and paragraph splitting keeps exact offsets and respects abbreviations."""

from bot.indexing.segment import paragraphs, sentences


def texts(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[start:end] for start, end in spans]


def test_sentences_do_not_break_on_abbreviations_amounts_or_quotes() -> None:
    text = (
        'The U.S. said $2.5bn was spent on 5G. "It is fair," Ardern told a weekly news '
        'conference. "The ball is now in their court." Dr. Smith left at 3 p.m. on Jan. 5.'
    )
    found = texts(text, sentences(text, (0, len(text))))
    assert found == [
        "The U.S. said $2.5bn was spent on 5G.",
        '"It is fair," Ardern told a weekly news conference.',
        '"The ball is now in their court."',
        "Dr. Smith left at 3 p.m. on Jan. 5.",
    ]


def test_paragraphs_split_on_blank_lines_and_trim_whitespace() -> None:
    text = "  First para.\nstill first.\n\n \n\tSecond para.  \r\n\r\nThird."
    assert texts(text, paragraphs(text)) == ["First para.\nstill first.", "Second para.", "Third."]


def test_offsets_point_into_the_original_text_with_unicode() -> None:
    text = "Intro line.\n\nCafé owners — “shocked” — said ÷ is 5. Then they left."
    for paragraph in paragraphs(text):
        for start, end in sentences(text, paragraph):
            assert text[start:end].strip() == text[start:end]
            assert paragraph[0] <= start < end <= paragraph[1]
    assert texts(text, sentences(text, paragraphs(text)[1]))[-1] == "Then they left."
