"""The installation's sealers, keyed from SECRET_KEY (and SECRET_KEY_PREVIOUS while it is rotated).

The services take a :class:`samrad.sealing.Sealer` as an argument; the web layer, the jobs and the
commands get theirs here, so no service reads the app's configuration.
"""

from __future__ import annotations

from flask import current_app

from samrad.sealing import Sealer

#: Evaluation answers waiting in the pool to be counted (services.evaluations.pool).
ANSWERS = "evaluation answers"
#: The answer token between the e-mail link and the form, in the respondent's cookie.
ANSWER_COOKIE = "evaluation answer cookie"


def sealer(purpose: str) -> Sealer:
    config = current_app.config
    return Sealer([config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", [])], purpose)
