"""News in: web pages, files and feeds become dated, cited articles in the corpus.

`extract` turns HTML into an article (text and metadata), `fetching` fetches pages politely,
`pages` stores articles as Markdown with front matter, `feeds` follows RSS and Atom feeds, and
`state` keeps what was stored and fetched in SQLite next to the index. Importing this package
imports none of them.
"""
