"""Operator pages: providers."""

from fastapi import APIRouter

router = APIRouter()
