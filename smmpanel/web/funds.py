"""Customer pages: funds."""

from fastapi import APIRouter

router = APIRouter()
