from django import forms
from django.utils.translation import gettext_lazy as _

RATING_CHOICES = [
    (1, _("1 — very poor")),
    (2, _("2 — poor")),
    (3, _("3 — fair")),
    (4, _("4 — good")),
    (5, _("5 — excellent")),
]


class ResponseForm(forms.Form):
    # No initial value: nothing is pre-selected (DESIGN §1).
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose a rating from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class SnoozeForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("When should we ask again?"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose when we should ask again.")},
    )

    def __init__(self, *args: object, choices: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].choices = [(d, _("In %(days)d days") % {"days": d}) for d in choices]
