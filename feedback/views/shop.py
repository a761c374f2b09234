"""The shop's logo, served by the portal itself: emails and pages load nothing from elsewhere."""

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


@require_safe
@cache_control(max_age=3600)
def logo(request: HttpRequest) -> FileResponse:
    """SHOP_LOGO's file, its content type guessed from its name (a system check warns
    when that is not an image)."""
    path = Path(settings.SHOP_LOGO)
    if not settings.SHOP_LOGO or not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"))
