"""The Telegram front end: `app.py` wires handlers into one Application (`build_application`);
`format.py` renders answers as Telegram HTML, `messages.py` reads what users send,
`limits.py` paces replies and questions, `state.py` holds what handlers share, and
`token.py` keeps the bot token out of every log."""
