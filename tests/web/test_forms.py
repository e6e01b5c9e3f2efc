"""Form elements are written exactly as WTForms writes them, only faster (``forms.html_params``)."""

from __future__ import annotations

import wtforms.widgets
from flask_babel import lazy_gettext
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from wtforms.widgets import core as widgets_core

from samrad.web import forms
from samrad.web.case_forms import CaseForm

NAMES = st.sampled_from(
    ["id", "name", "class_", "for_", "data_hx_post", "aria_describedby", "aria_invalid", "a<b", 'q"t']
) | st.text(min_size=1, max_size=12)
HOSTILE = st.text(alphabet=st.sampled_from("<>&\"'\x00 éå\u202e=`"), max_size=12) | st.text(max_size=20)
VALUES = (
    st.booleans()
    | st.none()
    | st.integers()
    | HOSTILE
    | HOSTILE.map(Markup)
    | st.just(Markup('<b title="x">&amp;</b>'))
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(NAMES, VALUES, max_size=6))
def test_attributes_are_written_as_wtforms_writes_them(attributes):
    # Keyword names must be identifiers for a call, not for a dict splat: the splat is what widgets do.
    assert forms.html_params(**attributes) == forms.WTFORMS_HTML_PARAMS(**attributes)
    assert isinstance(forms.html_params(**attributes), Markup)


def test_known_cases_and_lazy_text(app):
    with app.test_request_context():
        assert str(forms.html_params(checked=True, readonly=False, name="text1", abc="hello")) == (
            'abc="hello" checked name="text1"'
        )
        assert str(forms.html_params(value='"><script>', data_hx_post="/x?a=1&b=2", class_="c")) == (
            'class="c" data-hx-post="/x?a=1&amp;b=2" value="&#34;&gt;&lt;script&gt;"'
        )
        assert str(forms.html_params(title=Markup('say "hi"'))) == 'title="say &quot;hi&quot;"'
        label = lazy_gettext("Your name")
        assert forms.html_params(placeholder=label) == forms.WTFORMS_HTML_PARAMS(placeholder=label)


def test_the_app_renders_every_widget_through_it(app):
    # create_app installed it: the module function, the package's name for it and both widget bases.
    assert widgets_core.html_params is forms.html_params
    assert wtforms.widgets.html_params is forms.html_params
    assert widgets_core.Input.html_params is forms.html_params
    assert widgets_core.Button.html_params is forms.html_params
    with app.test_request_context():
        form = CaseForm(formdata=None, meta=forms.SHOWN_ONLY)
        html = "".join(str(field()) for field in form)
    assert 'name="background"' in html
    assert 'type="checkbox"' in html
