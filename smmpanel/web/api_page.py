"""Customer pages: api_page."""

from fastapi import APIRouter

router = APIRouter()
