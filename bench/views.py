"""Baseline views for the benchmarks: the least a view of each kind can do."""

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def bare_json(request: HttpRequest) -> JsonResponse:
    """Read and parse a JSON body, answer 200: the API's floor, without its work."""
    return JsonResponse({"received": len(json.loads(request.body))})
