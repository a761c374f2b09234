from django import forms
from django.utils.translation import gettext_lazy as _

# Neutral labels; 5 means excellent, not "met expectations" (DESIGN §1).
RATING_CHOICES = [
    (1, _("1 — very poor")),
    (2, _("2 — poor")),
    (3, _("3 — fair")),
    (4, _("4 — good")),
    (5, _("5 — excellent")),
]
NPS_CHOICES = [(n, str(n)) for n in range(11)]
COMMENT_MAX_LENGTH = 2000


class ResponseForm(forms.Form):
    # No initial values anywhere: nothing is pre-selected or pre-ticked.
    rating = forms.TypedChoiceField(
        label=_("How would you rate this order?"),
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose a rating from 1 to 5."),
            "invalid_choice": _("Please choose a rating from 1 to 5."),
        },
    )
    nps = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a friend? (optional)"),
        help_text=_("0 means not at all likely, 10 extremely likely."),
        choices=NPS_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "nps-choice"}),
        error_messages={"invalid_choice": _("Please choose a number from 0 to 10.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        help_text=_("Up to 2000 characters."),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        # counter.js turns the hint under the box into a live "n / 2000" count.
        widget=forms.Textarea(attrs={"rows": 4, "data-counter": "id_comment_helptext"}),
        error_messages={
            "max_length": _("Please keep the comment to %(limit_value)d characters or fewer.")
        },
    )
    contact_requested = forms.BooleanField(label=_("Please contact me about this"), required=False)
    quote_allowed = forms.BooleanField(label=_("You may quote me"), required=False)

    def __init__(self, *args: object, nps_enabled: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not nps_enabled:
            del self.fields["nps"]


def response_form(
    data: object = None, *, initial: dict | None = None, nps_enabled: bool
) -> ResponseForm:
    """The feedback form, with the 0-10 question only if the policy asks it."""
    return ResponseForm(data, initial=initial, nps_enabled=nps_enabled)


class SnoozeForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("When should we ask again?"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose when we should ask again."),
            "invalid_choice": _("Please choose one of the offered days."),
        },
    )

    def __init__(self, *args: object, choices: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].choices = [(d, _("In %(days)d days") % {"days": d}) for d in choices]
