"""Front pages: a home page of headline links, each with a summary under it, is a list of
stories, not one article; an article with a few related stories under it is still one."""

from __future__ import annotations

import pytest

from bot.ingest.extract import FRONT_PAGE, extract_article

STORIES = [
    (
        "Tidal plant opens in Port Ellery",
        "The Port Ellery tidal plant began feeding electricity into the regional grid on "
        "Tuesday. Its operator says it will power 4,000 homes.",
    ),
    (
        "Ferry fares to rise by eleven percent",
        "Skerry Lines blamed the price of fuel, which it said had doubled in two years. "
        "Islanders say they were not consulted.",
    ),
    (
        "Council budget row deepens as finance chief resigns",
        "The council's finance chief resigned on Monday after a row over cuts to the harbour "
        "maintenance budget.",
    ),
    (
        "Library reopens after two-year refit",
        "The Valley library reopened its doors on Saturday with a new children's wing, a cafe "
        "and longer opening hours on weekdays.",
    ),
    (
        "Riverside cafe wins regional award",
        "The Riverside cafe was named the best independent cafe in the region. Its owner "
        "thanked her staff and her regulars.",
    ),
    (
        "Lighthouse on Gull Point to be repainted",
        "The harbour trust said the work will start in June and take six weeks. Scaffolding "
        "goes up on the first of the month.",
    ),
    (
        "School places shortage worries parents",
        "Parents in the north of the town say their children have been offered places at "
        "schools more than five miles away.",
    ),
    (
        "Storm warning for the weekend",
        "Forecasters have issued an amber warning for wind on Saturday, with gusts of up to 70 "
        "miles an hour expected on the coast.",
    ),
]
SITE = "https://harbour-gazette.example"
# Teaser markups seen on news sites: a linked heading, a link around a heading, a plain link.
TEASERS = {
    "linked heading": '<article class="teaser"><h2><a href="{href}">{headline}</a></h2>'
    "<p>{summary}</p></article>",
    "link around a heading": '<div class="card"><a href="{href}"><h3>{headline}</h3></a>'
    '<p class="standfirst">{summary}</p></div>',
    "plain link": '<li><a class="headline" href="{href}">{headline}</a>'
    '<div class="summary">{summary}</div></li>',
    "with picture, kicker and time": '<div class="story"><a href="{href}"><img src="a.jpg">'
    '</a><span class="kicker">Local</span><div class="text"><h3><a href="{href}">{headline}'
    '</a></h3></div><div class="body"><p>{summary}</p><time>2 hours ago</time></div></div>',
}


def page(body: str, title: str = "Harbour Gazette - News from Port Ellery") -> str:
    return (
        f"<html><head><title>{title}</title>"
        f'<link rel="canonical" href="{SITE}/"></head><body>'
        '<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>'
        f"<main>{body}</main><footer>Copyright 2024 Harbour Gazette. "
        '<a href="/about">About us</a></footer></body></html>'
    )


def front_page(markup: str, site: str = "") -> str:
    teasers = "".join(
        markup.format(href=f"{site}/news/story-{i}", headline=headline, summary=summary)
        for i, (headline, summary) in enumerate(STORIES)
    )
    return page(f"<h1>Latest news</h1><ul>{teasers}</ul>")


@pytest.mark.parametrize("markup", TEASERS.values(), ids=TEASERS)
@pytest.mark.parametrize("site", ["", SITE], ids=["relative links", "absolute links"])
def test_a_home_page_of_headlines_with_summaries_is_no_article(markup: str, site: str) -> None:
    assert extract_article(front_page(markup, site)).not_article == FRONT_PAGE


ARTICLE = (
    "<article><h1>Tidal plant opens in Port Ellery</h1>"
    "<p>The Port Ellery tidal plant began feeding electricity into the regional grid on "
    "Tuesday, three years after building work started in the harbour mouth.</p>"
    "<p>Its operator, Ellery Tidal, says the plant's twelve turbines will power about 4,000 "
    "homes, and that the plant will pay for itself within eighteen years.</p>"
    "<p>Fishermen had opposed the plant, saying the turbines would drive fish from the bay; "
    "a survey paid for by the operator found no change in catches so far.</p>"
    "<p>The mayor, who opened the plant, said it was the biggest investment in the town "
    "since the ferry terminal was built. A second plant is planned for Skerry Island.</p>"
    "</article>"
)


@pytest.mark.parametrize("markup", TEASERS.values(), ids=TEASERS)
def test_an_article_with_related_stories_under_it_is_an_article(markup: str) -> None:
    related = "".join(
        markup.format(href=f"/news/story-{i}", headline=headline, summary=summary)
        for i, (headline, summary) in enumerate(STORIES[1:5])
    )
    html = page(ARTICLE + f"<aside><h2>Related stories</h2><ul>{related}</ul></aside>")
    found = extract_article(html)
    assert found.not_article == ""
    assert "twelve turbines" in found.text


def test_headlines_linking_to_other_sites_are_no_front_page() -> None:
    # A list of shops' offers, each a linked product name and a few words on it, is one
    # article of this site, not a front page of its stories.
    offers = "".join(
        TEASERS["linked heading"].format(
            href=f"https://shop{i}.example/item", headline=headline, summary=summary
        )
        for i, (headline, summary) in enumerate(STORIES)
    )
    assert extract_article(page(offers)).not_article == ""
