"""From retrieved passages to an answer (the steps are in answer.py's docstring).

question.py  what the question asks            prior.py    the cheap prior and shortlist
reader.py    the ONNX cross-encoder            reading.py  its verdict, checks, neighbours
checks.py    years, numbers, roles, kinds      acronyms.py what an abbreviation stands for
cite.py      citations and their order         answer.py   answer_question, Answer
overview.py  "tell me about X", "the latest"   period.py   "in October 2019"
more.py      "tell me more"
"""

from bot.answering.answer import Answer, answer_question
from bot.answering.cite import Citation

__all__ = ["Answer", "Citation", "answer_question"]
