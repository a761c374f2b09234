"""How the review pages name a review's author: first name and initial, nothing more."""

from django import template

from feedback.selectors.reviews import author_name

register = template.Library()


@register.filter
def review_author(full_name: str) -> str:
    return author_name(full_name)
