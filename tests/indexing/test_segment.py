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


def assert_exact(text: str) -> list[str]:
    """Every sentence span maps back to the text verbatim; returns the sentences."""
    found = []
    for paragraph in paragraphs(text):
        for start, end in sentences(text, paragraph):
            assert paragraph[0] <= start < end <= paragraph[1]
            assert text[start:end] == text[start:end].strip()
            found.append(text[start:end])
    return found


def test_offsets_are_exact_in_files_with_crlf_and_a_bom(tmp_path) -> None:
    from bot.indexing.chunking import sentence_table
    from bot.indexing.corpus import load_corpus

    raw = "\ufeffHeadline here\r\n\r\nMr. Smith went to Washington.\r\nHe met Dr. Jones at 3 p.m. on Jan. 5. It rained.\r\n\r\nEnd of story!\r\n"
    (tmp_path / "a.txt").write_bytes(raw.encode("utf-8"))
    document = load_corpus(tmp_path).documents[0]
    file_text = open(tmp_path / "a.txt", encoding="utf-8").read()  # noqa: SIM115
    assert document.text == file_text
    table = sentence_table(0, document)
    assert [file_text[s.start : s.end] for s in table] == [
        "Mr. Smith went to Washington.",
        "He met Dr. Jones at 3 p.m. on Jan. 5.",
        "It rained.",
        "End of story!",
    ]


def test_abbreviations_initials_and_acronyms() -> None:
    text = (
        "Huawei Technologies Co. The company said so. J. R. R. Tolkien wrote it in the U.K. "
        "Sales rose 2.5% vs. last year, according to Acme Inc. and others. "
        "Was it true? \u201cYes,\u201d she said. No. 10 Downing St. was quiet\u2026 Then it rained."
    )
    assert assert_exact(text) == [
        "Huawei Technologies Co.",
        "The company said so.",
        "J. R. R. Tolkien wrote it in the U.K. Sales rose 2.5% vs. last year, according to Acme Inc. and others.",
        "Was it true?",
        "\u201cYes,\u201d she said.",
        "No. 10 Downing St. was quiet\u2026",
        "Then it rained.",
    ]


def test_company_forms_of_other_countries_do_not_end_a_sentence() -> None:
    text = (
        "On October 29, HDT Védelmi Ipari Kft. (HDT Limited) acquired Hirtenberger. "
        "It bought Siemens AG. The deal closed."
    )
    assert assert_exact(text) == [
        "On October 29, HDT Védelmi Ipari Kft. (HDT Limited) acquired Hirtenberger.",
        "It bought Siemens AG.",
        "The deal closed.",
    ]


def test_very_long_lines_are_cut_into_bounded_sentences_with_exact_offsets() -> None:
    from bot.indexing.segment import MAX_SENTENCE_CHARS

    text = "intro.\n\n" + " ".join(["word"] * 50_000) + "x" * 30_000 + " end. Done."
    found = assert_exact(text)
    assert all(len(s) <= MAX_SENTENCE_CHARS for s in found)
    assert "".join(found).replace(" ", "") == text.replace(" ", "").replace("\n", "")
    assert found[-1] == "Done."
