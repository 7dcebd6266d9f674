import json
import logging

from django.http import JsonResponse
from django.shortcuts import render

from .models import Note

log = logging.getLogger("notes")


def health(request):
    return JsonResponse({"status": "ok"})


def index(request):
    notes = list(Note.objects.order_by("-created")[:20])
    log.info(json.dumps({"event": "index", "notes": len(notes)}))
    return render(request, "notes/index.html", {"notes": notes})
