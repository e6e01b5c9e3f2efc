"""Evaluations: the anonymous answer form (``answering``), and the coordinator's and statistics viewers'
pages: the overview with opening and closing (``opening``), reports (``reports``), reviewing comments
(``comments``) and the questionnaire editor (``questionnaire``). Importing the package registers every
route on its one blueprint."""

from samrad.web.evaluations import answering, comments, opening, questionnaire, reports
from samrad.web.evaluations.common import bp
from samrad.web.evaluations.opening import open_evaluation

__all__ = ["answering", "bp", "comments", "open_evaluation", "opening", "questionnaire", "reports"]
