"""Customer pages: dashboard."""

from fastapi import APIRouter

router = APIRouter()
