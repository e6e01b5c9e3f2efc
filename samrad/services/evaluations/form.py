"""The Norrbotten form and the limits every evaluation text keeps."""

from __future__ import annotations

from samrad.enums import Attendance
from samrad.models.evaluation import QuestionKind

#: The Norrbotten form "Mötesutvärdering – regionalt samråd" (domain brief §4.1), word for word.
NORRBOTTEN_TITLE = "Mötesutvärdering – regionalt samråd"
NORRBOTTEN_QUESTIONS: tuple[tuple[QuestionKind, str], ...] = (
    (QuestionKind.SCALE, "Alla fick komma till tals under mötet."),
    (QuestionKind.SCALE, "Samtalsklimatet var tillåtande"),
    (QuestionKind.SCALE, "Jag fick med mig nya kunskaper."),
    (QuestionKind.SCALE, "Jag blev påmind om kunskaper som jag har"),
    (QuestionKind.SCALE, "Jag delade med mig av sådant som hjälpt mig i mitt arbete"),
    (
        QuestionKind.SCALE,
        "Jag har möjlighet att ta med mig något från mötet tillbaka till ordinarie verksamhet.",
    ),
    (QuestionKind.TEXT, "Var det någonting som var oklart under dagens möte, i så fall vad?"),
)
#: Longest free-text answer accepted, in characters.
TEXT_MAX = 2000
QUESTION_TEXT_MAX = 500
TITLE_MAX = 200
MAX_QUESTIONS = 30
ATTENDED = (Attendance.ON_SITE, Attendance.VIA_LINK)
