"""Operator pages: settings."""

from fastapi import APIRouter

router = APIRouter()
