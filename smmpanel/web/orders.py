"""Customer pages: orders."""

from fastapi import APIRouter

router = APIRouter()
