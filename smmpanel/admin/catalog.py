"""Operator pages: catalog."""

from fastapi import APIRouter

router = APIRouter()
